/// Something replies may have to wait for, passed as a mark on a sequence: the gate opens for a mark once
/// everything up to it has happened (the flood gate opens for sequence n once every connected neighbour has
/// acknowledged the updates up to n).
///
/// A gate is used on its server's event loop only; it is `Sendable` so a reply can carry it.
public protocol ReplyGate: AnyObject, Sendable {
    /// Whether replies held at `mark` may go now.
    func isOpen(at mark: UInt64) -> Bool
    /// Calls `release` once the gate is open at `mark` (on the event loop; at once if it is open already).
    func whenOpen(at mark: UInt64, _ release: @escaping () -> Void)
}

/// A reply's wait: a gate and the mark it must open at. Marks only grow, so of two holds on one gate the
/// higher mark covers both.
public struct ReplyHold: Sendable, Equatable {
    public let gate: any ReplyGate
    public let mark: UInt64

    public init(gate: any ReplyGate, mark: UInt64) {
        self.gate = gate
        self.mark = mark
    }

    /// Whether the reply may go now.
    public var isOpen: Bool { gate.isOpen(at: mark) }

    /// One hold that opens when both have: the higher mark when both are on one gate.
    func combined(with other: ReplyHold) -> ReplyHold {
        if gate === other.gate { return ReplyHold(gate: gate, mark: max(mark, other.mark)) }
        return ReplyHold(gate: BothHolds(first: self, second: other), mark: 0)
    }

    public static func == (lhs: ReplyHold, rhs: ReplyHold) -> Bool {
        lhs.gate === rhs.gate && lhs.mark == rhs.mark
    }
}

/// A gate that opens once two holds have (a reply held by a stage of the user's and by the flood).
final class BothHolds: ReplyGate {
    let first: ReplyHold
    let second: ReplyHold

    init(first: ReplyHold, second: ReplyHold) {
        self.first = first
        self.second = second
    }

    func isOpen(at mark: UInt64) -> Bool { first.isOpen && second.isOpen }

    func whenOpen(at mark: UInt64, _ release: @escaping () -> Void) {
        let second = self.second
        first.gate.whenOpen(at: first.mark) { second.gate.whenOpen(at: second.mark, release) }
    }
}
