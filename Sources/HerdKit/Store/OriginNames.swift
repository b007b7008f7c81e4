import Synchronization

/// Interns neighbour names as small integers, so a record spends two bytes on where it came from instead of
/// a string. A herd has a handful of neighbours; names are never removed.
final class OriginNames: Sendable {
    /// The origin of a record reported by a client of this server.
    static let local: UInt16 = 0
    /// More distinct names than this are not interned: such records report no origin, which at worst floods
    /// an update back to the neighbour it came from (whose dedupe stops it).
    static let capacity = Int(UInt16.max) - 1

    private struct Table {
        var ids: [String: UInt16] = [:]
        var names: [String] = []
    }

    private let table = Mutex(Table())

    /// The id of `name`, interning it on first use; ``local`` for nil.
    func id(for name: String?) -> UInt16 {
        guard let name else { return Self.local }
        return table.withLock { table in
            if let id = table.ids[name] { return id }
            guard table.names.count < Self.capacity else { return Self.local }
            table.names.append(name)
            let id = UInt16(table.names.count)
            table.ids[name] = id
            return id
        }
    }

    /// The name behind `id`; nil for ``local``.
    func name(for id: UInt16) -> String? {
        guard id != Self.local else { return nil }
        return table.withLock { table in table.names[Int(id) - 1] }
    }
}
