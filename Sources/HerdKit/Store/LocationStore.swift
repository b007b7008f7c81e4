/// Keeps the newest location per client.
///
/// A store belongs to one server and is used only on that server's event loop, so nothing in it locks or
/// waits: reads and writes are synchronous, and ``commit()`` makes everything stored so far durable with
/// one write, once per event-loop pass, before the pass's replies and floods go out (as Redis appends its
/// AOF buffer before it writes replies).
///
/// Every stored update gets the next number of the store's *sequence*, so a peer link can send "every
/// record changed since n" (anti-entropy, Docs/anti-entropy.md) instead of the whole table.
public protocol LocationStore: AnyObject {
    /// Bytes written to the journal since the store was opened, for metrics.
    var journalBytesWritten: UInt64 { get }
    /// The stored AT line for a client, if any.
    func record(for client: ClientID) -> ATLine?
    /// Whether `line` would replace what is stored for its client (see ``store(_:from:)``).
    func supersedes(_ line: ATLine, from origin: String?) -> Bool
    /// Whether the record stored for the client of `line` (an AT line, stripped) is exactly these bytes: a
    /// neighbour's update that came round the other side of a cycle, dropped before it is even parsed.
    func holds(exactly line: UnsafeRawBufferPointer) -> Bool
    /// Stores `line` if it supersedes the stored record, remembering the neighbour it came from (nil for a
    /// client of this server). Returns the sequence number it got, or nil if it was not kept.
    ///
    /// A client's report must have a newer client time; an AT line from a peer with the same client time
    /// wins when its bytes are greater, so every server keeps the same one of two equal-time reports.
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

    /// Writes every change made since the last commit, with one write. When it throws, the changes stay
    /// pending and the next commit tries them again; nothing about them may be told to anyone meanwhile.
    func commit() throws
    /// Whether ``commit()`` has anything to write.
    var hasUncommittedChanges: Bool { get }
    /// Commits, makes it all survive a machine crash, and releases the store's files. Nothing is stored after.
    func close() throws

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
    /// Bytes written to the journal since the store was opened (0 for a store that keeps none).
    public var journalBytesWritten: UInt64 { 0 }

    public func holds(exactly line: UnsafeRawBufferPointer) -> Bool {
        var fields = FieldCursor(line)
        guard fields.next() != nil, fields.next() != nil, fields.next() != nil, let id = fields.next(),
            let stored = record(for: ClientID(line[id]))
        else { return false }
        return stored.bytes.elementsEqual(line)
    }

    /// The stored client time for a client.
    public func storedTime(for client: ClientID) -> ClientTime? {
        record(for: client)?.time
    }

    /// Stores a client's own report; true if it was newer.
    public func storeIfNewer(_ line: ATLine) -> Bool {
        store(line, from: nil) != nil
    }
}
