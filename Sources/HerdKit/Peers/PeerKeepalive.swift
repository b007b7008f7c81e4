import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// TCP keepalive on peer connections, so a link whose other end vanished without a reset (a host that
/// died, a NAT that forgot it) is closed within about a minute instead of being held for ever: an idle
/// listener never writes on its half of a link.
enum PeerKeepalive {
    /// Idle time before the first probe, the time between probes, and how many go unanswered before the
    /// connection is closed.
    static let idleSeconds: Int32 = 30
    static let intervalSeconds: Int32 = 10
    static let probes: Int32 = 3

    /// Best effort: a transport that is not TCP (a Unix socket, say) has no keepalive, and that is fine.
    static func enable(on channel: any Channel) {
        guard let options = channel.syncOptions else { return }
        try? options.setOption(.socketOption(.so_keepalive), value: 1)
        #if os(Linux)
            try? options.setOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPIDLE)),
                value: SocketOptionValue(idleSeconds))
            try? options.setOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPINTVL)),
                value: SocketOptionValue(intervalSeconds))
            try? options.setOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPCNT)),
                value: SocketOptionValue(probes))
        #endif
    }
}
