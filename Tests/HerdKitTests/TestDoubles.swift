import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import HerdKit

/// The order in which the fakes (and recording stages) were called, shared between them.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])

    func append(_ event: String) {
        events.withLock { $0.append(event) }
    }

    var all: [String] { events.withLock { $0 } }
}

/// A ``ReplyGate`` the test opens by hand: open at every mark up to the one given to ``open(through:)``.
/// Used on its event loop only, as every gate is.
final class ManualGate: ReplyGate {
    private struct State {
        var opened: UInt64 = 0
        var waiting: [(mark: UInt64, release: () -> Void)] = []
    }

    private let state: NIOLoopBoundBox<State>

    /// Call on `eventLoop`.
    init(eventLoop: any EventLoop) {
        state = NIOLoopBoundBox(State(), eventLoop: eventLoop)
    }

    func isOpen(at mark: UInt64) -> Bool { mark <= state.value.opened }

    func whenOpen(at mark: UInt64, _ release: @escaping () -> Void) {
        if isOpen(at: mark) { return release() }
        state.value.waiting.append((mark, release))
    }

    /// Opens the gate up to `mark` and releases everything waiting for a mark up to it.
    func open(through mark: UInt64) {
        state.value.opened = max(state.value.opened, mark)
        let ready = state.value.waiting.filter { $0.mark <= mark }
        state.value.waiting.removeAll { $0.mark <= mark }
        for waiter in ready { waiter.release() }
    }
}

/// A ``PeerFlooding`` that records every announced update, as the line a link would send and the neighbour
/// it came from (which a link skips), and every acknowledgement a reply asked for. A reply confirming
/// sequence n is held at mark n of ``gate``.
final class RecordingPeers: PeerFlooding {
    struct Call: Sendable, Hashable {
        var line: String
        var except: String?
    }

    let store: any LocationStore
    let log: EventLog
    let gate: ManualGate
    /// Whether ``acknowledgement(of:)`` holds replies (false: as a server with no neighbour connected).
    var holdsReplies = true
    private(set) var calls: [Call] = []
    private(set) var announced: [UInt64] = []
    private(set) var acknowledgementsAsked: [UInt64] = []

    /// Call on `eventLoop`.
    init(store: any LocationStore, log: EventLog = EventLog(), eventLoop: any EventLoop) {
        self.store = store
        self.log = log
        self.gate = ManualGate(eventLoop: eventLoop)
    }

    func announce(_ sequence: UInt64) {
        announced.append(sequence)
        let change = store.changes(after: sequence - 1, limit: 1).first
        let line = change.map { String(decoding: $0.line, as: UTF8.self) } ?? "<sequence \(sequence) not in the feed>"
        calls.append(Call(line: line, except: change?.origin))
        log.append("flood")
    }

    func acknowledgement(of sequence: UInt64) -> ReplyHold? {
        acknowledgementsAsked.append(sequence)
        return holdsReplies ? ReplyHold(gate: gate, mark: sequence) : nil
    }
}

struct DiskOnFire: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
}

/// A ``PlaceProvider`` that records its queries and answers with a canned response or error: at once
/// (through `immediatePlaces`, as an in-memory provider does) when `answersAtOnce` and the outcome is a
/// response, otherwise later, through `nearbyPlaces`.
final class RecordingProvider: PlaceProvider {
    enum Outcome: Sendable {
        case response(PlacesResponse)
        case failure(any Error & Sendable)
    }

    let outcome: Outcome
    let answersAtOnce: Bool
    let log: EventLog
    private let recorded = Mutex<[PlaceQuery]>([])

    init(
        _ outcome: Outcome = .response(PlacesResponse(results: [])), answersAtOnce: Bool = true,
        log: EventLog = EventLog()
    ) {
        self.outcome = outcome
        self.answersAtOnce = answersAtOnce
        self.log = log
    }

    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        recorded.withLock { $0.append(query) }
        log.append("provider")
        switch outcome {
        case .response(let response): return response
        case .failure(let error): throw error
        }
    }

    func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? {
        guard answersAtOnce, case .response(let response) = outcome else { return nil }
        recorded.withLock { $0.append(query) }
        log.append("provider")
        return response
    }

    var queries: [PlaceQuery] { recorded.withLock { $0 } }
}

/// A stage that notes in the event log that the line reached it, then passes it on.
struct MarkerStage: MessageHandler {
    let name: String
    let log: EventLog

    func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        log.append(name)
        return next(envelope)
    }
}

/// A server's context with fakes on an event loop, and the default pipeline (with a marker just before the
/// respond stage). Used on its event loop only: synchronous tests make it on an `EmbeddedEventLoop` of their
/// own thread (the default); ``LoopHarness`` keeps one on a thread-safe loop for replies that come later.
final class Harness {
    static let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_371_889)

    let eventLoop: any EventLoop
    let store: MemoryStore
    let log: EventLog
    let peers: RecordingPeers
    let provider: RecordingProvider
    let context: HandlerContext
    let pipeline: Pipeline

    /// Call on `eventLoop`.
    init(
        server: String = "Alford", provider outcome: RecordingProvider.Outcome = .response(PlacesResponse(results: [])),
        answersAtOnce: Bool = true, eventLoop: any EventLoop = EmbeddedEventLoop()
    ) {
        self.eventLoop = eventLoop
        let log = EventLog()
        self.log = log
        let store = MemoryStore()
        self.store = store
        self.peers = RecordingPeers(store: store, log: log, eventLoop: eventLoop)
        self.provider = RecordingProvider(outcome, answersAtOnce: answersAtOnce, log: log)
        self.context = HandlerContext(
            serverName: server, store: store, peers: peers, provider: provider, logger: Logger.quiet,
            eventLoop: eventLoop)
        self.pipeline = Pipeline([
            ParseStage(), DedupeStage(), StoreStage(), FloodStage(), MarkerStage(name: "respond", log: log),
            RespondStage(),
        ])
    }

    func envelope(_ line: String, from origin: Envelope.Origin, at time: WallTime = Harness.receivedAt) -> Envelope {
        Envelope(line: Array(line.utf8), origin: origin, receivedAt: time)
    }

    /// Runs one line through the pipeline.
    func response(_ line: String, from origin: Envelope.Origin, at time: WallTime = Harness.receivedAt) -> Response {
        pipeline.handle(envelope(line, from: origin, at: time), context: context)
    }

    /// Runs one line through the pipeline and returns its reply, which must be there at once (records an
    /// issue and returns nil otherwise).
    func reply(
        _ line: String, from origin: Envelope.Origin, at time: WallTime = Harness.receivedAt,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Reply? {
        guard let reply = response(line, from: origin, at: time).immediate else {
            Issue.record("the reply to \(line) did not come at once", sourceLocation: sourceLocation)
            return nil
        }
        return reply
    }

    /// The reply as text, or nil for no reply.
    func run(
        _ line: String, from origin: Envelope.Origin, at time: WallTime = Harness.receivedAt,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> String? {
        reply(line, from: origin, at: time, sourceLocation: sourceLocation).map(text)
    }

    /// The stored AT line for `client`, as text.
    func stored(_ client: String) -> String? {
        store.record(for: ClientID(client)).map { String(decoding: $0.bytes, as: UTF8.self) }
    }
}

/// A ``Harness`` on a thread-safe testing loop, for async tests whose replies come later (a provider that
/// must be waited for, a stage that suspends). Everything it holds is used on the loop.
final class LoopHarness: Sendable {
    let loop: NIOAsyncTestingEventLoop
    let provider: RecordingProvider
    private let herd: NIOLoopBound<Harness>

    private init(loop: NIOAsyncTestingEventLoop, herd: NIOLoopBound<Harness>, provider: RecordingProvider) {
        self.loop = loop
        self.herd = herd
        self.provider = provider
    }

    static func make(
        server: String = "Alford", provider outcome: RecordingProvider.Outcome = .response(PlacesResponse(results: [])),
        answersAtOnce: Bool = true
    ) async throws -> LoopHarness {
        let loop = NIOAsyncTestingEventLoop()
        let herd = try await loop.submit {
            NIOLoopBound(
                Harness(server: server, provider: outcome, answersAtOnce: answersAtOnce, eventLoop: loop),
                eventLoop: loop)
        }.get()
        let provider = try await loop.submit { herd.value.provider }.get()
        return LoopHarness(loop: loop, herd: herd, provider: provider)
    }

    /// Runs `body` with the harness on its loop.
    func onLoop<Result: Sendable>(_ body: @escaping @Sendable (Harness) throws -> Result) async throws -> Result {
        let herd = self.herd
        return try await loop.submit { try body(herd.value) }.get()
    }

    /// Runs one line through the pipeline on the loop and waits for its reply, as text (nil for none).
    func run(_ line: String, from origin: Envelope.Origin, at time: WallTime = Harness.receivedAt) async throws
        -> String?
    {
        let response = try await onLoop { $0.response(line, from: origin, at: time) }
        return try await response.get().map(text)
    }

    func stored(_ client: String) async throws -> String? {
        try await onLoop { $0.stored(client) }
    }
}

/// A reply's bytes as text.
func text(_ reply: Reply) -> String {
    String(decoding: reply.bytes, as: UTF8.self)
}

extension Logger {
    /// A logger that discards everything, so test output stays readable.
    static var quiet: Logger { Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }) }
}

/// Builds an AT line value the way a server would have produced it, for seeding stores.
func atLine(
    server: String = "Bolden", skew: String = "+0.500000000", client: String = "kiwi.cs.ucla.edu",
    location: String = "+34.068930-118.445127", time: String
) -> ATLine {
    parsedATLine("AT \(server) \(skew) \(client) \(location) \(time)")
}

/// The AT line `text` parses to; the test stops if it does not parse.
func parsedATLine(_ text: String) -> ATLine {
    guard case .at(let line)? = try? MessageParser.parse(Array(text.utf8)) else {
        preconditionFailure("test AT line does not parse: \(text)")
    }
    return line
}
