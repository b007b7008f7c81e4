/// Keeps the newest location per client. Synchronous so the hot path never suspends for it;
/// a durable store can still write behind, in batches.
public protocol LocationStore: Sendable {
    /// The stored AT line for a client, if any.
    func record(for client: ClientID) -> ATLine?
    /// The stored client time for a client: all dedupe needs, and cheaper than the whole record.
    func storedTime(for client: ClientID) -> ClientTime?
    /// Stores `line` if its client time is newer than the stored one; returns whether it did.
    /// Check and write are one atomic step, so concurrent reports for one client keep the newest.
    func storeIfNewer(_ line: ATLine) -> Bool
    /// How many clients are held.
    var count: Int { get }
}

extension LocationStore {
    public func storedTime(for client: ClientID) -> ClientTime? {
        record(for: client)?.time
    }
}
