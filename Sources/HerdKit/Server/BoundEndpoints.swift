/// The addresses a running server actually listens on.
public struct BoundEndpoints: Sendable, Hashable {
    public var clients: Endpoint
    public var peers: Endpoint
    /// The admin endpoint, when the server has one.
    public var admin: Endpoint?

    public init(clients: Endpoint, peers: Endpoint, admin: Endpoint? = nil) {
        self.clients = clients
        self.peers = peers
        self.admin = admin
    }
}

/// Why a server stopped before it could serve.
public struct ServerStartError: Error, Sendable, CustomStringConvertible {
    public var server: String
    public var reason: String

    public init(server: String, reason: String) {
        self.server = server
        self.reason = reason
    }

    public var description: String { "\(server): \(reason)" }
}
