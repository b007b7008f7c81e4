import NIOCore

/// The limits and timings a running server applies, from the config's `limits`, `redial` and storage keys,
/// with units in their types.
struct ServerSettings: Sendable {
    /// Longest line accepted (PROTOCOL.md section 1: 64 KiB).
    var maximumLineBytes = 64 * 1024
    /// Bytes of an overlong line echoed back in its `? ` reply.
    var overlongEchoBytes = 256
    /// Close a client connection after this long with no traffic either way; nil keeps it open.
    var idleTimeout: Duration? = .seconds(300)
    var maximumClientConnections = 10_000
    /// Peer connections open at once, handshakes included.
    var maximumPeerConnections = 64
    /// Close a client connection whose partial line is not completed within this long; nil never does.
    var lineTimeout: Duration? = .seconds(10)
    /// Bounds on client times, ids and the number of clients, for the stages.
    var rules = InputRules()
    /// Most bytes of replies one connection may have unsent before its later lines wait for it to read.
    var maximumUnsentBytes = 1 << 20
    /// Longest a client reply waits for a neighbour's acknowledgement.
    var floodTimeout: Duration = .seconds(1)
    /// Most updates one write to a neighbour carries.
    var peerBatchLines = 4_096
    var redialInitial: Duration = .milliseconds(100)
    var redialMaximum: Duration = .seconds(5)
    /// The re-dial jitter's source.
    var randomFraction = RandomFraction.system
    /// The secrets peer links prove; nil when they are not authenticated by a secret (TLS certificates, or
    /// `peer_links.authentication: none`).
    var peerKeys: PeerKeys?
    /// How long a peer link may take over its handshake, either way.
    var handshakeTimeout: Duration = .seconds(10)
    /// How long a graceful stop waits for replies still held before it closes the connections.
    var shutdownTimeout: Duration = .seconds(5)

    /// How log records are written.
    var logFormat = LogFormat.text

    init() {}

    init(config: HerdConfig) {
        maximumLineBytes = config.limits.maximumLineBytes
        idleTimeout = config.limits.idleTimeoutSeconds == 0 ? nil : .seconds(config.limits.idleTimeoutSeconds)
        maximumClientConnections = config.limits.maximumClientConnections
        lineTimeout = config.limits.lineTimeoutSeconds == 0 ? nil : .seconds(config.limits.lineTimeoutSeconds)
        rules = InputRules(
            maximumTimeAhead: .seconds(config.limits.maximumTimeAheadSeconds),
            maximumClientIDBytes: config.limits.maximumClientIDBytes,
            maximumClients: config.limits.maximumClients,
            herdMembers: Set(config.servers.map(\.name)))
        floodTimeout = .milliseconds(config.limits.floodTimeoutMilliseconds)
        peerBatchLines = config.limits.peerBatchLines
        redialInitial = .milliseconds(config.redial.initialMilliseconds)
        redialMaximum = .milliseconds(config.redial.maximumMilliseconds)
        handshakeTimeout = .milliseconds(config.limits.peerHandshakeTimeoutMilliseconds)
        maximumPeerConnections = config.limits.maximumPeerConnections
        logFormat = config.logFormat
    }
}

extension Duration {
    /// For NIO's timers.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
