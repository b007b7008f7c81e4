/// Moves lines between a server and the other side of a connection: plain TCP, TLS, or a user's own.
///
/// A transport only frames bytes into lines and carries them; everything the protocol means happens in the
/// pipeline above it, so swapping TCP for TLS changes nothing else.
public protocol Transport: Sendable {
    /// Binds `endpoint` (port 0 picks a free port) and returns the listener, not yet accepting.
    func listen(on endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Listener
    /// Opens a connection to `endpoint`.
    func dial(_ endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Connection
}

/// A bound endpoint that hands over each connection it accepts.
public protocol Listener: Sendable {
    /// The address actually bound, with the real port when port 0 was asked for.
    var localEndpoint: Endpoint { get }
    /// Accepts connections and runs `handler` for each, concurrently, until the calling task is cancelled.
    /// Returning closes the listening socket and every connection it accepted.
    func run(_ handler: @escaping @Sendable (any Connection) async -> Void) async throws
    /// Closes a listener that will not be run (for example when the server's other endpoint failed to bind).
    func close() async
}

/// One connection, inbound or dialled. Its lines are only reachable inside ``run(_:)``, which closes it after.
public protocol Connection: Sendable {
    /// The other side, for logs: `127.0.0.1:53412`.
    var remoteDescription: String { get }
    /// What the transport learnt of the other side's identity (a TLS certificate's names), if anything.
    var peerIdentity: PeerIdentity? { get }
    /// Runs `body` with the inbound lines and the writer, then closes the connection.
    func run<Result: Sendable>(
        _ body: @Sendable (_ inbound: InboundLines, _ outbound: any LineWriter) async throws -> Result
    ) async throws -> Result
}

/// The names a transport has authenticated for the other side of a connection (for example from a
/// certificate); peer links check them against the hello line.
public struct PeerIdentity: Sendable, Hashable {
    public var names: [String]
    public init(names: [String]) { self.names = names }
}

/// What arrives on a connection: complete lines in the order received, batched as they were read.
public enum InboundEvent: Sendable, Hashable {
    /// Complete lines without their LF (a CR before it is still there: it is white space to the protocol).
    /// The last line before end of input counts as complete.
    case lines([[UInt8]])
    /// A line grew past the limit: its first bytes, after which the transport closes the connection.
    case overlongLine(prefix: [UInt8])
}

/// Writes replies. Each element is one reply and goes out as one buffer; a call's replies are flushed together.
public protocol LineWriter: Sendable {
    func write(_ replies: [[UInt8]]) async throws
    /// Closes the sending side once everything written has gone (a half-close): "no more commands".
    func finish()
}

/// Limits a transport applies to every connection.
public struct ConnectionLimits: Sendable, Hashable {
    /// Longest line accepted, in bytes (PROTOCOL.md section 1: 64 KiB).
    public var maximumLineBytes: Int
    /// Bytes of an overlong line echoed back in its `? ` reply.
    public var overlongEchoBytes: Int
    /// Close a connection after this long with no traffic either way; nil keeps it open.
    public var idleTimeout: Duration?

    public init(maximumLineBytes: Int = 64 * 1024, overlongEchoBytes: Int = 256, idleTimeout: Duration? = .seconds(300))
    {
        self.maximumLineBytes = maximumLineBytes
        self.overlongEchoBytes = overlongEchoBytes
        self.idleTimeout = idleTimeout
    }
}
