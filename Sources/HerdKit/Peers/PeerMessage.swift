import NIOCore

/// The control lines of a peer link (Docs/anti-entropy.md). Each direction of a link is its own connection:
/// the dialler sends `HELLO <server name>`, the listener answers `EPOCH <n>` naming its store, the dialler
/// then sends AT lines, and the listener answers `ACK <n>` once the first n of them are stored and journalled.
public enum PeerMessage: Sendable, Hashable {
    case hello(server: String)
    case epoch(UInt64)
    case acknowledged(lines: UInt64)

    /// The line, LF included.
    public var line: [UInt8] {
        switch self {
        case .hello(let server): Array("HELLO \(server)\n".utf8)
        case .epoch(let epoch): Array("EPOCH \(epoch)\n".utf8)
        case .acknowledged(let lines): Array("ACK \(lines)\n".utf8)
        }
    }

    /// Reads a control line (without its LF); nil if it is not one.
    public static func parse(_ line: ByteBuffer) -> PeerMessage? {
        line.withUnsafeReadableBytes { bytes in
            var fields = FieldCursor(bytes)
            guard let command = fields.next(), let argument = fields.next(), fields.next() == nil else { return nil }
            let text = String(decoding: bytes[argument], as: UTF8.self)
            if bytes.matches(command, "HELLO") { return .hello(server: text) }
            if bytes.matches(command, "EPOCH") { return UInt64(text).map { .epoch($0) } }
            if bytes.matches(command, "ACK") { return UInt64(text).map { .acknowledged(lines: $0) } }
            return nil
        }
    }

    public static func parse(_ text: String) -> PeerMessage? {
        parse(ByteBuffer(string: text))
    }
}
