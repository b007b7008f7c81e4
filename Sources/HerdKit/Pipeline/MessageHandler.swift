import Logging

/// One stage of the pipeline: it sees each envelope and either passes it on with `next`, possibly changed,
/// or ends the chain with its own reply (or none).
///
/// Shaped like Hummingbird's middleware, so a stage wraps everything after it: it can act before and after
/// `next`, and a stage that does not call `next` stops the line there.
public protocol MessageHandler: Sendable {
    func handle(
        _ envelope: Envelope,
        context: HandlerContext,
        next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply?
}

/// What a stage may use: the server's identity, its store, its peers, its place provider, its log.
public struct HandlerContext: Sendable {
    public var serverName: String
    public var store: any LocationStore
    public var peers: any PeerFlooding
    public var provider: any PlaceProvider
    public var logger: Logger

    public init(
        serverName: String, store: any LocationStore, peers: any PeerFlooding, provider: any PlaceProvider,
        logger: Logger
    ) {
        self.serverName = serverName
        self.store = store
        self.peers = peers
        self.provider = provider
        self.logger = logger
    }
}

/// The flood side of a server's peer links. Links send what the store's change feed holds; flooding
/// means waking them at once and, before a client is answered, waiting for the neighbours' acknowledgement.
public protocol PeerFlooding: Sendable {
    /// Tells every link that the store holds changes up to `sequence`, to be sent now.
    func announce(_ sequence: UInt64)
    /// Returns once every connected neighbour has acknowledged storing every change up to `sequence`.
    /// A neighbour that has not within the configured flood timeout is not waited for again until it
    /// catches up, so one stalled peer cannot stall the herd's clients.
    func waitUntilAcknowledged(_ sequence: UInt64) async
}
