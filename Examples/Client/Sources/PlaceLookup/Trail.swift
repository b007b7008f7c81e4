import HerdKit
import NIOCore
import Transports

extension PlaceLookup {
    /// Where a client was, and when.
    public struct Position: Sendable, Hashable {
        public var latitude: Double
        public var longitude: Double
        public var time: ClientTime

        public init(latitude: Double, longitude: Double, time: ClientTime) {
            self.latitude = latitude
            self.longitude = longitude
            self.time = time
        }
    }

    /// Reports `positions` of `client` one after another over one connection that stays open, as a tracker
    /// reporting every few seconds would, instead of a connection per report: each report waits for its AT
    /// line before the next is sent. Returns the AT lines (without their LF).
    ///
    /// `HerdClient.connect(to:over:)` gives the connection as an `NIOAsyncChannel` of raw bytes over the
    /// client's transport (TCP, TLS or your own); `executeThenClose` closes it when the body returns.
    public func reportTrail(client: String, _ positions: [Position]) async throws -> [String] {
        let channel = try await HerdClient.connect(to: reportTo.endpoint, over: reportTo.transport)
        return try await channel.executeThenClose { inbound, outbound in
            var replies = LineReader(inbound.makeAsyncIterator())
            var atLines: [String] = []
            for position in positions {
                let location = HerdClient.iso6709(latitude: position.latitude, longitude: position.longitude)
                try await outbound.write(ByteBuffer(string: "IAMAT \(client) \(location) \(position.time)\n"))
                guard let reply = try await replies.next() else {
                    throw Failure.unreadable("the server closed the connection after \(atLines.count) reports")
                }
                guard reply.hasPrefix("AT ") else { throw Failure.refused(reply + "\n") }
                atLines.append(reply)
            }
            return atLines
        }
    }
}

/// The LF-terminated lines of a connection's inbound bytes, however the reads split them.
struct LineReader {
    private var bytes: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []

    init(_ bytes: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.bytes = bytes
    }

    /// The next line without its LF; nil once the server has closed.
    mutating func next() async throws -> String? {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                defer { pending.removeSubrange(...end) }
                return String(decoding: pending[..<end], as: UTF8.self)
            }
            guard let buffer = try await bytes.next() else { return nil }
            pending += buffer.readableBytesView
        }
    }
}
