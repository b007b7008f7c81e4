/// Keeps the newest location per client. Synchronous so the hot path never suspends for it; a durable
/// store writes behind in batches, and ``waitUntilDurable(_:)`` is awaited once per batch of lines.
///
/// Every stored update gets the next number of the store's *sequence*, so a peer link can send "every
/// record changed since n" (anti-entropy, Docs/anti-entropy.md) instead of the whole table.
public protocol LocationStore: Sendable {
    /// The stored AT line for a client, if any.
    func record(for client: ClientID) -> ATLine?
    /// The stored client time for a client: all dedupe needs, and cheaper than the whole record.
    func storedTime(for client: ClientID) -> ClientTime?
    /// Stores `line` if its client time is newer than the stored one, remembering the neighbour it came
    /// from (nil for a client of this server). Returns the sequence number it got, or nil if not newer.
    /// Check and write are one atomic step, so concurrent reports for one client keep the newest.
    func store(_ line: ATLine, from origin: String?) -> UInt64?
    /// How many clients are held.
    var count: Int { get }

    /// Names this store's sequence: a new epoch means the numbers started again (its data was lost).
    var epoch: UInt64 { get }
    /// The highest sequence number given so far (0 when empty).
    var latestSequence: UInt64 { get }
    /// The current records whose sequence number is above `sequence`, lowest first, at most `limit` of
    /// them. A record updated twice appears once, under its newer number.
    func changes(after sequence: UInt64, limit: Int) -> [StoreChange]
    /// Returns once every update up to `sequence` would survive the process being killed.
    func waitUntilDurable(_ sequence: UInt64) async throws

    /// What a neighbour has acknowledged of this store's sequence, so a re-opened link resumes there.
    func cursor(for neighbour: String) -> PeerCursor?
    /// Records a neighbour's acknowledgement (kept durably by a durable store, lazily: a lost cursor only
    /// means some records are sent again).
    func setCursor(_ cursor: PeerCursor, for neighbour: String)
}

/// One record as the change feed gives it.
public struct StoreChange: Sendable, Hashable {
    public var sequence: UInt64
    /// The AT line, without LF.
    public var line: [UInt8]
    /// The neighbour it came from; nil when a client of this server reported it.
    public var origin: String?

    public init(sequence: UInt64, line: [UInt8], origin: String?) {
        self.sequence = sequence
        self.line = line
        self.origin = origin
    }
}

/// How far a neighbour has caught up with this store: the neighbour's epoch when it acknowledged, and the
/// highest sequence number it acknowledged. A different epoch means the neighbour lost its data.
public struct PeerCursor: Sendable, Hashable {
    public var neighbourEpoch: UInt64
    public var acknowledged: UInt64

    public init(neighbourEpoch: UInt64, acknowledged: UInt64) {
        self.neighbourEpoch = neighbourEpoch
        self.acknowledged = acknowledged
    }
}

extension LocationStore {
    public func storedTime(for client: ClientID) -> ClientTime? {
        record(for: client)?.time
    }

    /// Stores a client's own report; true if it was newer.
    public func storeIfNewer(_ line: ATLine) -> Bool {
        store(line, from: nil) != nil
    }
}
