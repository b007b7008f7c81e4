import NIOCore

/// The dialling half of a peer link as a state machine, with no socket, clock or store: what the link
/// has sent of the store's change feed, what the neighbour has acknowledged, and whether replies wait for it.
///
/// The handler records each batch with ``willWrite(lines:through:)`` before it writes it, so an `ACK`
/// can never arrive for a batch the link does not know it sent. (The earlier design recorded a batch after
/// its asynchronous write returned. A batch bigger than the channel's write buffer made that write wait for
/// the buffer to drain, and meanwhile the neighbour's `ACK` for it could come back; it matched nothing and
/// was lost, and the replies waiting on it stalled until the flood timeout: the one-second p99.9.)
struct OutboundLink {
    /// Both sides' nonces of one handshake.
    struct Nonces: Equatable {
        var dialler: String
        var listener: String
    }

    enum Phase: Equatable {
        /// Not yet said hello.
        case idle
        /// The hello went out with this nonce; a server with a peer secret waits for the challenge.
        case awaitingChallenge(diallerNonce: String)
        /// The hello (and any proof) went out; the neighbour has not named its store yet. With a secret,
        /// the nonces its `EPOCH` proof must cover.
        case awaitingEpoch(nonces: Nonces?)
        /// Sending the feed to a neighbour whose store has this epoch.
        case streaming(neighbourEpoch: UInt64)
        case closed
    }

    /// What the handler must do after a line from the neighbour.
    enum Action: Equatable {
        case none
        /// Find where the neighbour's copy of the feed stands and call ``start(at:)``.
        case resume(neighbourEpoch: UInt64)
        /// The neighbour now holds the feed up to this number: keep its cursor, release held replies.
        case acknowledged(through: UInt64)
        /// Send this line (the proof) and go on waiting.
        case send(PeerMessage)
        /// A protocol error: close the link.
        case fail(String)
    }

    let neighbour: String
    /// This server's name, which the proofs are bound to.
    let serverName: String
    /// Nil when links are not authenticated by a secret (TLS certificates, or `authentication: none`).
    let keys: PeerKeys?
    private(set) var phase = Phase.idle
    /// The feed position written so far.
    private(set) var sent: UInt64 = 0
    /// The feed position the neighbour holds.
    private(set) var acknowledged: UInt64 = 0
    /// Set when the neighbour missed the flood timeout: replies do not wait for it until it catches up.
    private(set) var lagging = false
    private var linesWritten: UInt64 = 0
    /// Lines the neighbour has acknowledged on this connection.
    private(set) var acknowledgedLines: UInt64 = 0
    /// Batches written and not yet acknowledged: lines written on this connection when the batch ended, and
    /// the feed position it covers up to.
    private var inFlight = CircularBuffer<(lines: UInt64, through: UInt64)>()

    init(neighbour: String, serverName: String, keys: PeerKeys?) {
        self.neighbour = neighbour
        self.serverName = serverName
        self.keys = keys
    }

    /// Whether the link is still in its handshake (a deadline applies).
    var isHandshaking: Bool {
        switch phase {
        case .idle, .awaitingChallenge, .awaitingEpoch: true
        case .streaming, .closed: false
        }
    }

    /// The first line to send; `nonce` is fresh for every connection.
    mutating func hello(nonce: String = PeerProof.nonce()) -> PeerMessage {
        guard keys != nil else {
            phase = .awaitingEpoch(nonces: nil)
            return .hello(server: serverName)
        }
        phase = .awaitingChallenge(diallerNonce: nonce)
        return .hello(server: serverName, nonce: nonce)
    }

    var isStreaming: Bool {
        if case .streaming = phase { return true }
        return false
    }

    var neighbourEpoch: UInt64? {
        if case .streaming(let epoch) = phase { return epoch }
        return nil
    }

    /// Handles one line from the neighbour (nil: not a control line).
    mutating func receive(_ message: PeerMessage?) -> Action {
        switch (phase, message) {
        case (.awaitingChallenge(let diallerNonce), .challenge(let listenerNonce)?):
            guard let keys, PeerProof.isNonce(listenerNonce) else {
                return .fail("\(neighbour)'s challenge is malformed")
            }
            phase = .awaitingEpoch(nonces: Nonces(dialler: diallerNonce, listener: listenerNonce))
            let proofs = keys.all.map {
                PeerProof.dialler(
                    $0, dialler: serverName, listener: neighbour, diallerNonce: diallerNonce,
                    listenerNonce: listenerNonce)
            }
            return .send(.proof(proofs))
        case (.awaitingChallenge, .epoch?):
            return .fail("\(neighbour) did not challenge the hello (no peer secret configured there?)")
        case (.awaitingEpoch(nil), .challenge?):
            return .fail("\(neighbour) asks for a peer secret, and this server has none configured")
        case (.awaitingEpoch(let nonces), .epoch(let epoch, let proof)?):
            if let nonces, let keys {
                let proven =
                    proof.map { proof in
                        keys.all.contains { secret in
                            PeerProof.same(
                                proof,
                                PeerProof.listener(
                                    secret, dialler: serverName, listener: neighbour, diallerNonce: nonces.dialler,
                                    listenerNonce: nonces.listener, epoch: epoch))
                        }
                    } ?? false
                guard proven else { return .fail("\(neighbour) did not prove it holds the peer secret") }
            }
            phase = .streaming(neighbourEpoch: epoch)
            return .resume(neighbourEpoch: epoch)
        case (.idle, _), (.awaitingChallenge, _), (.awaitingEpoch, _):
            return .fail("\(neighbour) did not answer the hello with its store epoch")
        case (.streaming, .acknowledged(let lines)?):
            return acknowledge(lines: lines)
        case (.streaming, _):
            return .fail("\(neighbour) sent a line that is not ACK")
        case (.closed, _):
            return .none
        }
    }

    /// Starts sending after `position`, which the neighbour already holds.
    mutating func start(at position: UInt64) {
        sent = position
        acknowledged = position
        inFlight.removeAll()
        linesWritten = 0
        acknowledgedLines = 0
        lagging = false
    }

    /// Records a batch about to be written: `lines` lines that cover the feed up to `through` (changes that
    /// came from the neighbour are skipped, so a batch may have none). Returns the new acknowledged position
    /// when the batch needs no acknowledgement.
    mutating func willWrite(lines: UInt64, through: UInt64) -> UInt64? {
        precondition(isStreaming && through >= sent, "batches go out in feed order while streaming")
        sent = through
        if lines == 0 && inFlight.isEmpty {
            acknowledged = through
            clearLaggingIfCaughtUp()
            return through
        }
        linesWritten += lines
        inFlight.append((linesWritten, through))
        return nil
    }

    private mutating func acknowledge(lines count: UInt64) -> Action {
        guard count <= linesWritten else {
            return .fail("\(neighbour) acknowledged \(count) lines, but \(linesWritten) were sent")
        }
        acknowledgedLines = max(acknowledgedLines, count)
        var covered = acknowledged
        while let first = inFlight.first, first.lines <= count {
            covered = max(covered, first.through)
            inFlight.removeFirst()
        }
        guard covered > acknowledged else { return .none }
        acknowledged = covered
        clearLaggingIfCaughtUp()
        return .acknowledged(through: covered)
    }

    private mutating func clearLaggingIfCaughtUp() {
        if lagging && acknowledged >= sent { lagging = false }
    }

    /// Whether a reply held at `mark` waits for this neighbour: it is linked, not lagging, and does not hold
    /// `mark` yet.
    func isAwaited(at mark: UInt64) -> Bool {
        isStreaming && !lagging && acknowledged < mark
    }

    /// Stops replies waiting for this neighbour until it catches up; true if it was not lagging already.
    mutating func markLagging() -> Bool {
        guard isStreaming, !lagging else { return false }
        lagging = true
        return true
    }

    mutating func close() {
        phase = .closed
        inFlight.removeAll()
    }
}
