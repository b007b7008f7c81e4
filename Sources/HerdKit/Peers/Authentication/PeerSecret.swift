/// The secret every server of a herd shares, so that over plain TCP a neighbour can prove who it is without
/// the secret crossing the wire (Docs/threat-model.md). Its description never shows the bytes.
public struct PeerSecret: Sendable, Hashable, CustomStringConvertible {
    /// Fewer bytes than this are refused: a secret must not be guessable offline from one recorded handshake.
    public static let minimumBytes = 16

    let bytes: [UInt8]

    /// A secret as an operator writes it (in a file or an environment variable); surrounding white space,
    /// such as a file's last newline, is not part of it. Nil when what is left is shorter than
    /// ``minimumBytes``.
    public init?(text: String) {
        let trimmed = Array(Array(text.utf8).strippingWhiteSpace())
        guard trimmed.count >= Self.minimumBytes else { return nil }
        bytes = trimmed
    }

    /// 32 random bytes from the system's generator, written as 64 hex digits: a herd in one process, or
    /// the servers of one machine, make their own.
    public static func random() -> PeerSecret {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexadecimal
        return PeerSecret(text: hex)!
    }

    /// The secret as text, to write it to a file; never log it.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { "<peer secret, \(bytes.count) bytes>" }
}

/// The secrets a server accepts: the one it proves itself with, and while the herd changes to a new secret,
/// the one before it (see "Rotating the peer secret" in Docs/threat-model.md).
public struct PeerKeys: Sendable, Hashable {
    public var current: PeerSecret
    public var previous: PeerSecret?

    public init(current: PeerSecret, previous: PeerSecret? = nil) {
        self.current = current
        self.previous = previous
    }

    /// Every accepted secret, the current one first.
    var all: [PeerSecret] { [current] + (previous.map { [$0] } ?? []) }
}

extension Sequence<UInt8> {
    var hexadecimal: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
