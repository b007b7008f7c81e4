import Logging
import Synchronization

@testable import HerdKit

/// The order in which the fakes (and recording stages) were called, shared between them.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])

    func append(_ event: String) {
        events.withLock { $0.append(event) }
    }

    var all: [String] { events.withLock { $0 } }
}

/// A ``PeerFlooding`` that records every announced update, as the line a link would send and the neighbour
/// it came from (which a link skips), and answers every acknowledgement wait at once.
final class RecordingPeers: PeerFlooding {
    struct Call: Sendable, Hashable {
        var line: String
        var except: String?
    }

    let store: any LocationStore
    let log: EventLog
    private let recorded = Mutex<[Call]>([])

    init(store: any LocationStore, log: EventLog = EventLog()) {
        self.store = store
        self.log = log
    }

    func announce(_ sequence: UInt64) {
        let change = store.changes(after: sequence - 1, limit: 1).first
        let call = Call(line: change.map { String(decoding: $0.line, as: UTF8.self) } ?? "", except: change?.origin)
        recorded.withLock { $0.append(call) }
        log.append("flood")
    }

    func waitUntilAcknowledged(_ sequence: UInt64) async {}

    var calls: [Call] { recorded.withLock { $0 } }
}

struct DiskOnFire: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
}

/// A ``PlaceProvider`` that records its queries and answers with a canned response or error.
final class RecordingProvider: PlaceProvider {
    enum Outcome: Sendable {
        case response(PlacesResponse)
        case failure(any Error & Sendable)
    }

    let outcome: Outcome
    let log: EventLog
    private let recorded = Mutex<[PlaceQuery]>([])

    init(_ outcome: Outcome = .response(PlacesResponse(results: [])), log: EventLog = EventLog()) {
        self.outcome = outcome
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

    var queries: [PlaceQuery] { recorded.withLock { $0 } }
}

/// A stage that notes in the event log that the line reached it, then passes it on.
struct MarkerStage: MessageHandler {
    let name: String
    let log: EventLog

    func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        log.append(name)
        return try await next(envelope, context)
    }
}

/// A server's context with fakes, and the default pipeline (with a marker just before the respond stage).
struct Harness {
    static let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_371_889)

    let store: MemoryStore
    let log: EventLog
    let peers: RecordingPeers
    let provider: RecordingProvider
    let context: HandlerContext
    let pipeline: Pipeline

    init(
        server: String = "Alford", provider outcome: RecordingProvider.Outcome = .response(PlacesResponse(results: []))
    ) {
        let log = EventLog()
        self.log = log
        let store = MemoryStore()
        self.store = store
        self.peers = RecordingPeers(store: store, log: log)
        self.provider = RecordingProvider(outcome, log: log)
        self.context = HandlerContext(
            serverName: server, store: store, peers: peers, provider: provider, logger: Logger.quiet)
        self.pipeline = Pipeline([
            ParseStage(), DedupeStage(), StoreStage(), FloodStage(), MarkerStage(name: "respond", log: log),
            RespondStage(),
        ])
    }

    /// Runs one line through the pipeline; the reply as text, or nil for no reply.
    func run(_ line: String, from origin: Envelope.Origin, at time: WallTime = Harness.receivedAt) async throws
        -> String?
    {
        let reply = try await pipeline.handle(
            Envelope(line: Array(line.utf8), origin: origin, receivedAt: time), context: context)
        return reply.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    /// The stored AT line for `client`, as text.
    func stored(_ client: String) -> String? {
        store.record(for: ClientID(client)).map { String(decoding: $0.bytes, as: UTF8.self) }
    }
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
    let text = "AT \(server) \(skew) \(client) \(location) \(time)"
    guard case .at(let line)? = try? MessageParser.parse(Array(text.utf8)) else {
        fatalError("test AT line does not parse: \(text)")
    }
    return line
}
