/// The inbound side of a ``Connection``: an async sequence of ``InboundEvent``s, whatever the transport.
///
/// It erases the transport's own sequence type so that ``Connection`` stays a plain protocol.
public struct InboundLines: AsyncSequence, Sendable {
    public typealias Element = InboundEvent

    private let makeNext: @Sendable () -> () async throws -> InboundEvent?

    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == InboundEvent {
        self.makeNext = {
            let box = IteratorBox(base.makeAsyncIterator())
            return { try await box.next() }
        }
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(next: makeNext())
    }

    public struct Iterator: AsyncIteratorProtocol {
        let nextElement: () async throws -> InboundEvent?

        init(next: @escaping () async throws -> InboundEvent?) {
            self.nextElement = next
        }

        public mutating func next() async throws -> InboundEvent? {
            try await nextElement()
        }
    }
}

/// Holds a base iterator so a closure can advance it; only ever used from the task that iterates.
private final class IteratorBox<Base: AsyncIteratorProtocol> where Base.Element == InboundEvent {
    var base: Base
    init(_ base: Base) { self.base = base }
    func next() async throws -> InboundEvent? { try await base.next() }
}
