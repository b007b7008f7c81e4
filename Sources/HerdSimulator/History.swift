/// What the clients of a simulation saw: every `AT` reply, matched to the line it answers. The checks read
/// it to decide what the herd owed them.
public final class History {
    /// An `IAMAT` the herd answered: from then on it owes every server this update (or a newer one for the
    /// same client).
    public struct Acknowledgement: Sendable {
        public var server: String
        public var client: String
        /// The `AT` line, as the server stored and flooded it.
        public var line: String
        /// Simulated time of the reply.
        public var at: Double
    }

    public var sent = 0
    public var unanswered = 0
    public private(set) var acknowledged: [Acknowledgement] = []
    /// Replies that are not the `AT` line the request asked for.
    public private(set) var wrongReplies: [String] = []
    private let now: () -> Double

    public init(now: @escaping () -> Double) {
        self.now = now
    }

    func replied(server: String, request: String?, reply: String) {
        guard let request else {
            wrongReplies.append("\(server) sent \"\(reply)\" with no request outstanding")
            return
        }
        let fields = request.split(separator: " ")
        let replyFields = reply.split(separator: " ")
        guard fields.count == 4, replyFields.count == 6, replyFields[0] == "AT", replyFields[1] == server,
            Array(replyFields[3...]) == Array(fields[1...])
        else {
            wrongReplies.append("\(server) answered \"\(request)\" with \"\(reply)\"")
            return
        }
        acknowledged.append(Acknowledgement(server: server, client: String(fields[1]), line: reply, at: now()))
    }
}

/// The rule PROTOCOL.md section 2 gives for which of two updates of one client a server keeps, written
/// again from the protocol text (not taken from the server's code) so the checks can judge it: the later
/// client time wins; with equal times, the greater AT line, byte by byte.
public enum LastWriterWins {
    /// Whether `candidate` wins over `other`.
    public static func beats(_ candidate: String, _ other: String) -> Bool {
        let a = time(of: candidate)
        let b = time(of: other)
        if a != b { return a.seconds > b.seconds || (a.seconds == b.seconds && a.fraction > b.fraction) }
        return Array(other.utf8).lexicographicallyPrecedes(Array(candidate.utf8))
    }

    /// Whether a server holding `held` has taken account of an update answered with `line`: it holds a
    /// later client time, or the same one. (A report whose time a server already holds is answered with that
    /// server's own AT line, which is neither stored nor flooded; so of lines with equal times, only the
    /// agreement check says which one every server must hold.)
    public static func covers(_ held: String, _ line: String) -> Bool {
        let a = time(of: held)
        let b = time(of: line)
        return a.seconds > b.seconds || (a.seconds == b.seconds && a.fraction >= b.fraction)
    }

    /// The client time of an AT line (its last field) as whole seconds and nine digits of fraction.
    static func time(of line: String) -> (seconds: Int64, fraction: Int64) {
        let field = line.split(separator: " ").last ?? ""
        let parts = field.split(separator: ".", maxSplits: 1)
        let sign: Int64 = field.hasPrefix("-") ? -1 : 1
        let seconds = Int64(parts.first ?? "0") ?? 0
        var digits = parts.count > 1 ? String(parts[1].prefix(9)) : ""
        digits += String(repeating: "0", count: 9 - digits.count)
        return (seconds, sign * (Int64(digits) ?? 0))
    }
}
