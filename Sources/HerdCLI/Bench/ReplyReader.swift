import HerdKit
import NIOCore

/// Reads whole replies off a connection: one line, or for a WHATSAT answer every line up to and including
/// the empty line that ends it.
struct ReplyReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []
    private var position = 0

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
        self.iterator = inbound.makeAsyncIterator()
    }

    mutating func nextLine() async throws -> ArraySlice<UInt8> {
        while true {
            if let end = pending[position...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { position = end + 1 }
                return pending[position..<end]
            }
            guard let buffer = try await iterator.next() else { throw BenchError("the server closed the connection") }
            pending.removeFirst(position)
            position = 0
            pending += buffer.readableBytesView
        }
    }

    /// The first line of a reply; for an `AT` reply to WHATSAT, the rest of it is read and discarded.
    mutating func nextReply(isPlaceQuery: Bool) async throws -> [UInt8] {
        let first = Array(try await nextLine())
        if isPlaceQuery, first.starts(with: Array("AT ".utf8)) {
            while try await !nextLine().isEmpty {}
        }
        return first
    }
}
