/// Interns neighbour names as small integers, so a record spends two bytes on where it came from instead of
/// a string. A herd has a handful of neighbours; names are never removed. Used on its store's event loop.
struct OriginNames {
    /// The origin of a record reported by a client of this server.
    static let local: UInt16 = 0
    /// More distinct names than this are not interned: such records report no origin, which at worst floods
    /// an update back to the neighbour it came from (whose dedupe stops it).
    static let capacity = Int(UInt16.max) - 1

    private var ids: [String: UInt16] = [:]
    private(set) var names: [String] = []
    /// Each name as the journal writes it (escaped), so encoding a record builds no string.
    private(set) var journalNames: [[UInt8]] = []

    /// The id of `name`, interning it on first use; ``local`` for nil.
    mutating func id(for name: String?) -> UInt16 {
        guard let name else { return Self.local }
        if let id = ids[name] { return id }
        guard names.count < Self.capacity else { return Self.local }
        names.append(name)
        journalNames.append(Array(JournalEntry.escape(name).utf8))
        let id = UInt16(names.count)
        ids[name] = id
        return id
    }

    /// The name behind `id`; nil for ``local``.
    func name(for id: UInt16) -> String? {
        id == Self.local ? nil : names[Int(id) - 1]
    }

    /// The journal's form of the name behind `id`: `-` for ``local``.
    func journalName(for id: UInt16) -> [UInt8] {
        id == Self.local ? [ASCII.minus] : journalNames[Int(id) - 1]
    }
}
