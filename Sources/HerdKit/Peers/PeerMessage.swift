import NIOCore

/// The control lines of a peer link (Docs/anti-entropy.md section 2). Each direction of a link is its own
/// connection: the dialler sends `HELLO <server name>`, the listener answers `EPOCH <n>` naming its store,
/// the dialler then sends AT lines, and the listener answers `ACK <n>` once the first n of them are stored
/// and journalled. With a peer secret the hello carries a nonce, the listener answers `CHALLENGE <nonce>`,
/// the dialler `PROOF <hmac>` (two while the herd changes secrets), and the `EPOCH` line carries the
/// listener's own proof.
public enum PeerMessage: Sendable, Hashable {
    case hello(server: String, nonce: String? = nil)
    case challenge(nonce: String)
    case proof([String])
    case epoch(UInt64, proof: String? = nil)
    case acknowledged(lines: UInt64)

    /// The line, LF included.
    public var line: [UInt8] {
        let text =
            switch self {
            case .hello(let server, let nonce): "HELLO \(server)" + (nonce.map { " \($0)" } ?? "")
            case .challenge(let nonce): "CHALLENGE \(nonce)"
            case .proof(let proofs): "PROOF " + proofs.joined(separator: " ")
            case .epoch(let epoch, let proof): "EPOCH \(epoch)" + (proof.map { " \($0)" } ?? "")
            case .acknowledged(let lines): "ACK \(lines)"
            }
        return Array((text + "\n").utf8)
    }

    /// Reads a control line (without its LF); nil if it is not one.
    public static func parse(_ line: ByteBuffer) -> PeerMessage? {
        line.withUnsafeReadableBytes { bytes in
            var fields = FieldCursor(bytes)
            guard let command = fields.next() else { return nil }
            var arguments: [String] = []
            while let field = fields.next() {
                guard arguments.count < 2 else { return nil }
                arguments.append(String(decoding: bytes[field], as: UTF8.self))
            }
            guard let first = arguments.first else { return nil }
            let second = arguments.count > 1 ? arguments[1] : nil
            if bytes.matches(command, "HELLO") { return .hello(server: first, nonce: second) }
            if bytes.matches(command, "CHALLENGE") { return second == nil ? .challenge(nonce: first) : nil }
            if bytes.matches(command, "PROOF") { return .proof(arguments) }
            if bytes.matches(command, "EPOCH") { return UInt64(first).map { .epoch($0, proof: second) } }
            if bytes.matches(command, "ACK") {
                return second == nil ? UInt64(first).map { .acknowledged(lines: $0) } : nil
            }
            return nil
        }
    }

    public static func parse(_ text: String) -> PeerMessage? {
        parse(ByteBuffer(string: text))
    }
}
