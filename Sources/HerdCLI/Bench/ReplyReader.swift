import HerdKit

/// Reads whole replies off a connection's inbound lines: one line, or for a WHATSAT answer every line up to
/// and including the empty line that ends it.
struct ReplyReader {
    private var iterator: InboundLines.Iterator
    private var pending: [[UInt8]] = []
    private var position = 0

    init(_ inbound: InboundLines) {
        self.iterator = inbound.makeAsyncIterator()
    }

    mutating func nextLine() async throws -> [UInt8] {
        while position == pending.count {
            guard let event = try await iterator.next() else { throw BenchError("the server closed the connection") }
            guard case .lines(let lines) = event else { throw BenchError("the server sent an overlong line") }
            pending = lines
            position = 0
        }
        defer { position += 1 }
        return pending[position]
    }

    /// The first line of a reply; for an `AT` reply to WHATSAT, the rest of it is read and discarded.
    mutating func nextReply(isPlaceQuery: Bool) async throws -> [UInt8] {
        let first = try await nextLine()
        if isPlaceQuery, first.starts(with: Array("AT ".utf8)) {
            while try await !nextLine().isEmpty {}
        }
        return first
    }
}
