import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps one spare file descriptor per listener so that a server out of descriptors sheds new connections
/// instead of spinning: when `accept` fails with EMFILE or ENFILE the spare is closed, the next accept
/// succeeds, that connection is closed at once, and the spare is taken again. (NIO retries a failed accept
/// as soon as the socket polls readable, which it stays while connections wait in the backlog; the
/// connections already open go on being served either way.) Lives on the listener's event loop.
final class DescriptorReserve {
    private var spare: Int32
    private var shedding = 0

    init() {
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    deinit {
        if spare >= 0 { close(spare) }
    }

    /// An accept failed: frees the spare for the next accept, whose connection ``shed(_:)`` then closes.
    func acceptFailed(_ error: any Error) {
        guard let error = error as? IOError, error.errnoCode == EMFILE || error.errnoCode == ENFILE else { return }
        refill()
        guard spare >= 0 else { return }
        close(spare)
        spare = -1
        shedding += 1
    }

    /// Closes a newly accepted connection if it holds the spare's descriptor, and takes the spare again;
    /// true if it did.
    func shed(_ channel: any Channel) -> Bool {
        guard shedding > 0 else { return false }
        shedding -= 1
        channel.close(promise: nil)
        // The descriptor is free now; take it before the accept loop does.
        refill()
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.refill() }
        return true
    }

    private func refill() {
        if spare < 0 { spare = open("/dev/null", O_RDONLY | O_CLOEXEC) }
    }
}

/// Sits on a listening channel and tells its ``DescriptorReserve`` when an accept fails.
final class AcceptFailureHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    private let reserve: DescriptorReserve

    init(reserve: DescriptorReserve) {
        self.reserve = reserve
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reserve.acceptFailed(error)
        context.fireErrorCaught(error)
    }
}
