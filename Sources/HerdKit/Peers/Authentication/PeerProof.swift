import COpenSSL

/// The challenge-response of a peer link's hello, as HMAC-SHA256 over both sides' nonces: each side shows
/// it holds the herd's secret without sending it, and a recorded handshake cannot be replayed, since the
/// other side's nonce is new every time. Docs/anti-entropy.md section 2 gives the lines.
public enum PeerProof {
    /// A fresh nonce: 32 random bytes as 64 lowercase hex digits.
    public static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexadecimal
    }

    /// Whether `text` has a nonce's form (what a neighbour sends is checked before it is used).
    public static func isNonce(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// What the dialler sends in `PROOF`: it knows the secret, and is talking to `listener` now.
    public static func dialler(
        _ secret: PeerSecret, dialler: String, listener: String, diallerNonce: String, listenerNonce: String
    ) -> String {
        mac(secret, ["dialler", dialler, listener, diallerNonce, listenerNonce])
    }

    /// What the listener sends with `EPOCH`: it knows the secret too, and the epoch is its own.
    public static func listener(
        _ secret: PeerSecret, dialler: String, listener: String, diallerNonce: String, listenerNonce: String,
        epoch: UInt64
    ) -> String {
        mac(secret, ["listener", dialler, listener, diallerNonce, listenerNonce, String(epoch)])
    }

    /// Compares two proofs in time that does not depend on where they differ.
    public static func same(_ first: String, _ second: String) -> Bool {
        let a = Array(first.utf8)
        let b = Array(second.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 }
        }
    }

    /// HMAC-SHA256 of the fields, each ended by LF after a label that names this protocol and version (so
    /// a proof for one role or protocol is never valid for another), as hex.
    static func mac(_ secret: PeerSecret, _ fields: [String]) -> String {
        var message = Array("herd-peer-link-v1\n".utf8)
        for field in fields {
            message += field.utf8
            message.append(ASCII.lineFeed)
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let done = secret.bytes.withUnsafeBytes { key in
            message.withUnsafeBufferPointer { data in
                digest.withUnsafeMutableBufferPointer { out in
                    HMAC(
                        EVP_sha256(), key.baseAddress, Int32(key.count), data.baseAddress, data.count,
                        out.baseAddress, &length)
                }
            }
        }
        precondition(done != nil && length == 32, "HMAC-SHA256 failed in OpenSSL")
        return digest.hexadecimal
    }
}
