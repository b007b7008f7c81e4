/// What `GET /status` on a server's admin endpoint answers (as JSON), and what `herd status` shows: the
/// server, its store, its connections and every link it dials.
public struct ServerStatus: Codable, Sendable, Hashable {
    public struct Link: Codable, Sendable, Hashable {
        public var neighbour: String
        public var up: Bool
        /// Updates of this server's feed the neighbour has not acknowledged.
        public var lag: UInt64
        /// The neighbour missed the flood timeout and is not waited for until it catches up.
        public var lagging: Bool
        /// A link from the neighbour to this server is open.
        public var inbound: Bool

        public init(neighbour: String, up: Bool, lag: UInt64, lagging: Bool, inbound: Bool) {
            self.neighbour = neighbour
            self.up = up
            self.lag = lag
            self.lagging = lagging
            self.inbound = inbound
        }
    }

    public var server: String
    public var ready: Bool
    /// Why the server is not ready, when it is not.
    public var notReadyBecause: String?
    public var clients: Int
    /// Updates stored per second, averaged over about ten seconds.
    public var updatesPerSecond: Double
    public var clientConnections: Int
    public var peerConnections: Int
    public var uptimeSeconds: Double
    public var links: [Link]

    public init(
        server: String, ready: Bool, notReadyBecause: String?, clients: Int, updatesPerSecond: Double,
        clientConnections: Int, peerConnections: Int, uptimeSeconds: Double, links: [Link]
    ) {
        self.server = server
        self.ready = ready
        self.notReadyBecause = notReadyBecause
        self.clients = clients
        self.updatesPerSecond = updatesPerSecond
        self.clientConnections = clientConnections
        self.peerConnections = peerConnections
        self.uptimeSeconds = uptimeSeconds
        self.links = links
    }
}
