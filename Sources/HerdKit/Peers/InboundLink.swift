/// The listening half of a peer link as a state machine: waits for the hello (and, with a peer secret, for
/// the dialler's proof), then counts the neighbour's updates so it can acknowledge them once they are
/// journalled.
struct InboundLink {
    enum Phase: Equatable {
        case awaitingHello
        /// Challenged; the dialler must answer with a proof over both nonces.
        case awaitingProof(neighbour: String, diallerNonce: String, listenerNonce: String)
        case linked(neighbour: String)
        case closed
    }

    enum Outcome: Equatable {
        /// The link is up: send `reply` (the `EPOCH` line).
        case accept(neighbour: String, reply: PeerMessage)
        /// Send `reply` (the `CHALLENGE` line) and wait for the proof.
        case challenge(PeerMessage)
        case refuse(String)
    }

    /// This server's name, which the proofs are bound to.
    let serverName: String
    /// Nil when links are not authenticated by a secret (TLS certificates, or `authentication: none`).
    let keys: PeerKeys?
    private let makeNonce: () -> String
    private(set) var phase = Phase.awaitingHello
    /// Updates processed on this connection.
    private(set) var processed: UInt64 = 0
    private var acknowledged: UInt64 = 0

    init(serverName: String, keys: PeerKeys?, makeNonce: @escaping () -> String = PeerProof.nonce) {
        self.serverName = serverName
        self.keys = keys
        self.makeNonce = makeNonce
    }

    var neighbour: String? {
        if case .linked(let name) = phase { return name }
        return nil
    }

    /// Whether the handshake is over (linked or closed).
    var isHandshaking: Bool {
        switch phase {
        case .awaitingHello, .awaitingProof: true
        case .linked, .closed: false
        }
    }

    /// The name the hello claimed, for logs.
    private(set) var claimed: String?

    /// A handshake line: the hello, then (with a secret) the proof. `refusal` objects to a neighbour's name
    /// (nil accepts it); `epoch` is this server's store epoch, for the `EPOCH` answer.
    mutating func receive(_ message: PeerMessage?, epoch: UInt64, refusal: (String) -> String?) -> Outcome {
        switch phase {
        case .awaitingHello:
            return receiveHello(message, epoch: epoch, refusal: refusal)
        case .awaitingProof(let name, let diallerNonce, let listenerNonce):
            guard case .proof(let proofs)? = message else {
                return refuse("\(name) answered the challenge with something other than PROOF")
            }
            guard let keys else { return refuse("unreachable: a challenge without keys") }
            let matching = keys.all.first { secret in
                let expected = PeerProof.dialler(
                    secret, dialler: name, listener: serverName, diallerNonce: diallerNonce,
                    listenerNonce: listenerNonce)
                return proofs.contains { PeerProof.same($0, expected) }
            }
            guard let secret = matching else {
                return refuse("\(name)'s proof does not match the peer secret (or the previous one)")
            }
            if let reason = refusal(name) { return refuse(reason) }
            phase = .linked(neighbour: name)
            let proof = PeerProof.listener(
                secret, dialler: name, listener: serverName, diallerNonce: diallerNonce,
                listenerNonce: listenerNonce, epoch: epoch)
            return .accept(neighbour: name, reply: .epoch(epoch, proof: proof))
        case .linked, .closed:
            return refuse("a second hello")
        }
    }

    private mutating func receiveHello(_ message: PeerMessage?, epoch: UInt64, refusal: (String) -> String?)
        -> Outcome
    {
        guard case .hello(let name, let nonce)? = message else { return refuse("no hello line") }
        claimed = name
        if let reason = refusal(name) { return refuse(reason) }
        switch (keys, nonce) {
        case (nil, nil):
            phase = .linked(neighbour: name)
            return .accept(neighbour: name, reply: .epoch(epoch))
        case (nil, _?):
            return refuse("it offers the shared-secret handshake, but this server has no peer secret configured")
        case (_?, nil):
            return refuse("it did not offer the shared-secret handshake (no peer secret configured there?)")
        case (_?, let diallerNonce?):
            guard PeerProof.isNonce(diallerNonce) else { return refuse("its hello's nonce is malformed") }
            let listenerNonce = makeNonce()
            phase = .awaitingProof(neighbour: name, diallerNonce: diallerNonce, listenerNonce: listenerNonce)
            return .challenge(.challenge(nonce: listenerNonce))
        }
    }

    private mutating func refuse(_ reason: String) -> Outcome {
        phase = .closed
        return .refuse(reason)
    }

    /// The count last acknowledged, which may be sent again at any time (the dialler ignores a repeat).
    var lastAcknowledged: UInt64 { acknowledged }

    mutating func processedLine() {
        processed += 1
    }

    /// The count to acknowledge, when lines were processed since the last acknowledgement. Call it only
    /// once they are journalled.
    mutating func acknowledgementDue() -> UInt64? {
        guard processed > acknowledged else { return nil }
        acknowledged = processed
        return processed
    }

    mutating func close() {
        phase = .closed
    }
}
