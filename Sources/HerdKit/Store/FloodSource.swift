/// The built-in stores' fast path for flooding: the records stored in this pass, handed to every link that
/// is caught up, so a pass's floods read no table. Links fall back to ``LocationStore/changes(after:limit:)``
/// when they are behind, and for stores of a user's own.
protocol FloodSource: AnyObject {
    /// Records stored since the last call, in sequence order, numbered one after another.
    func takeUnflooded() -> [StoredRecord]
    /// The origin id records carry for `neighbour`.
    func originID(for neighbour: String) -> UInt16
}
