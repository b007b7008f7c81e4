import HerdKit

extension RawConnection {
    /// Plays the dialling side of a peer link's handshake by hand: `HELLO`, and with a secret the nonce and
    /// `PROOF` after the challenge. Returns the listener's answer (`EPOCH ...`), or nil if it closed first.
    public func sayHello(as name: String, to listener: String, secret: PeerSecret?) throws -> String? {
        guard let secret else {
            try write("HELLO \(name)\n")
            return try readLine()
        }
        let nonce = PeerProof.nonce()
        try write("HELLO \(name) \(nonce)\n")
        guard let challenge = try readLine() else { return nil }
        let fields = challenge.split(separator: " ").map(String.init)
        guard fields.count == 2, fields[0] == "CHALLENGE" else { return challenge }
        let proof = PeerProof.dialler(
            secret, dialler: name, listener: listener, diallerNonce: nonce, listenerNonce: fields[1])
        try write("PROOF \(proof)\n")
        return try readLine()
    }
}
