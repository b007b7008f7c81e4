import NIOCore

/// Opens the connections a server talks over: plain TCP, TLS, or a user's own (Unix sockets, say).
///
/// A transport binds and dials sockets and may put handlers of its own at the bottom of a connection's
/// pipeline (TLS is one handler). It hands each connection to the server once it is ready for lines, and
/// the server's handlers above do everything the protocol means, so swapping TCP for TLS changes nothing
/// else. A transport that decorates another (as TLS decorates TCP) wraps the ``ConnectionSetup`` it is given.
public protocol Transport: Sendable {
    /// Where this transport's channels live; a server runs on one event loop of it.
    var eventLoopGroup: any EventLoopGroup { get }
    /// Binds `endpoint` (port 0 picks a free port) with every accepted connection on `eventLoop`, and
    /// returns the listening channel: its `localAddress` is the bound address; closing it stops accepting.
    func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup)
        -> EventLoopFuture<any Channel>
    /// Connects to `endpoint` on `eventLoop` and hands the connection to `setup` once it is ready for lines;
    /// the future completes after that (or fails: refused, timed out, handshake failed).
    func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void>
}

/// What a server does with the connections a transport opens for it. Both closures run on the connection's
/// event loop.
public struct ConnectionSetup: Sendable {
    /// Runs as a connection is accepted, before any handshake, so a server can count it against its caps;
    /// false closes it at once.
    public var admit: @Sendable (any Channel) -> Bool
    /// Runs once the connection is ready for lines (after a TLS handshake, say): adds the server's handlers.
    /// Bytes that arrive after it returns reach those handlers. Throwing closes the connection.
    public var ready: @Sendable (any Channel, ConnectionPeer) throws -> Void

    public init(
        admit: @escaping @Sendable (any Channel) -> Bool = { _ in true },
        ready: @escaping @Sendable (any Channel, ConnectionPeer) throws -> Void
    ) {
        self.admit = admit
        self.ready = ready
    }
}

/// What a transport learnt of the other side of a connection.
public struct ConnectionPeer: Sendable, Hashable {
    /// The other side, for logs: `127.0.0.1:53412`.
    public var remoteDescription: String
    /// The names a transport has authenticated (a TLS certificate's), if any.
    public var identity: PeerIdentity?

    public init(remoteDescription: String, identity: PeerIdentity? = nil) {
        self.remoteDescription = remoteDescription
        self.identity = identity
    }

    /// The peer of `channel` as the socket shows it, with no identity.
    public init(channel: any Channel) {
        self.init(remoteDescription: channel.remoteAddress.map(Endpoint.describe) ?? "unknown")
    }
}

/// The names a transport has authenticated for the other side of a connection (for example from a
/// certificate); peer links check them against the hello line.
public struct PeerIdentity: Sendable, Hashable {
    public var names: [String]
    public init(names: [String]) { self.names = names }
}
