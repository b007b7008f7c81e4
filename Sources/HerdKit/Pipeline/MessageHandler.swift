import Logging
import NIOCore

/// One stage of the pipeline: it sees each line's envelope and either passes it on with `next`, possibly
/// changed, or ends the chain with its own reply (or none).
///
/// Stages run on the server's event loop, one line after another, and most never wait: `return next(envelope)`
/// costs a function call. A stage that has to wait returns ``Response/suspending(on:_:)`` and goes on with
/// ``Next/resume(_:)`` from inside it; the connection keeps its replies in order meanwhile.
///
/// Shaped like Hummingbird's middleware, so a stage wraps everything after it: it can act before `next` and,
/// with ``Response/map(_:)``, after it; a stage that does not call `next` stops the line there.
public protocol MessageHandler: Sendable {
    func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response
}

/// What a stage may use: the server's identity, its store, its peers, its place provider, its log. It lives
/// on the server's event loop, which is why stages may read and write the store without locks.
public final class HandlerContext {
    public let serverName: String
    public let store: any LocationStore
    public let peers: any PeerFlooding
    public let provider: any PlaceProvider
    public let logger: Logger
    /// The loop every line of this server is handled on; a suspending stage's reply comes back here.
    public let eventLoop: any EventLoop
    /// The server's bounds on client times, ids and the number of clients.
    public let rules: InputRules

    public init(
        serverName: String, store: any LocationStore, peers: any PeerFlooding, provider: any PlaceProvider,
        logger: Logger, eventLoop: any EventLoop, rules: InputRules = InputRules()
    ) {
        self.rules = rules
        self.serverName = serverName
        self.store = store
        self.peers = peers
        self.provider = provider
        self.logger = logger
        self.eventLoop = eventLoop
    }
}

/// The flood side of a server's peer links. Links send what the store's change feed holds, at the end of
/// each event-loop pass (after the journal write, before the replies); flooding means making sure they do,
/// and holding the client's reply until the neighbours have the update.
public protocol PeerFlooding: AnyObject {
    /// The store holds changes up to `sequence`; the links send them in this event-loop pass.
    func announce(_ sequence: UInt64)
    /// What a reply confirming `sequence` waits for: every connected neighbour's acknowledgement of it, or
    /// nil when there is no neighbour to wait for. A neighbour that does not acknowledge within the flood
    /// timeout is not waited for again until it catches up, so one stalled peer cannot stall the clients.
    func acknowledgement(of sequence: UInt64) -> ReplyHold?
}
