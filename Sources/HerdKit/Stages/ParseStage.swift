/// Turns the line into a ``Message``; an invalid line is answered `? ...` here and goes no further.
///
/// Clients may send IAMAT and WHATSAT; peers may send only AT. A blank line is ignored.
public struct ParseStage: MessageHandler {
    public init() {}

    public func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        // A neighbour's update that came round the other side of a cycle is byte for byte what is stored:
        // those bytes were checked when they were stored, so it is dropped without parsing it again.
        if case .peer = envelope.origin,
            envelope.line.withUnsafeReadableBytes({ context.store.holds(exactly: Self.stripped($0)) })
        {
            return .none
        }
        let message: Message?
        do {
            message = try MessageParser.parse(envelope.line)
        } catch {
            return refuse(envelope, reason: error.reason, context: context)
        }
        guard let message else { return .none }
        let rules = context.rules
        switch (message, envelope.origin) {
        case (.iamat(let report), .client):
            if let reason = Self.check(report.clientID, report.time, rules: rules, now: envelope.receivedAt) {
                return refuse(envelope, reason: reason, context: context)
            }
            envelope.update = report.atLine(server: context.serverName, receivedAt: envelope.receivedAt)
        case (.whatsat(let query), .client):
            if query.clientID.bytes.count > rules.maximumClientIDBytes {
                return refuse(envelope, reason: Self.longID(rules), context: context)
            }
        case (.at(let line), .peer):
            guard rules.isMember(line.serverBytes) else {
                return refuse(
                    envelope, reason: "its origin \(line.server) is not a server of this herd", context: context)
            }
            if let reason = Self.check(line.clientID, line.time, rules: rules, now: envelope.receivedAt) {
                return refuse(envelope, reason: reason, context: context)
            }
            envelope.update = line
        case (.at, .client):
            return refuse(envelope, reason: "AT is only accepted from peers", context: context)
        case (_, .peer):
            return refuse(envelope, reason: "peers may only send AT lines", context: context)
        }
        envelope.message = message
        return next(envelope)
    }

    /// Why an update of `client` at `time` is refused by this server's bounds, or nil.
    private static func check(_ client: ClientID, _ time: ClientTime, rules: InputRules, now: WallTime) -> String? {
        if client.bytes.count > rules.maximumClientIDBytes { return longID(rules) }
        if rules.isTooFarAhead(time, of: now) {
            return "client time \(time) is more than \(rules.maximumTimeAhead) ahead of this server's clock"
        }
        return nil
    }

    private static func longID(_ rules: InputRules) -> String {
        "client id is longer than \(rules.maximumClientIDBytes) bytes"
    }

    /// The bytes without leading and trailing white space.
    static func stripped(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, ASCII.isWhiteSpace(bytes[start]) { start += 1 }
        while end > start, ASCII.isWhiteSpace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    private func refuse(_ envelope: Envelope, reason: String, context: HandlerContext) -> Response {
        if case .peer = envelope.origin {
            // A neighbour that sends what its own server should have refused is misbehaving: an operator
            // wants to hear of it.
            context.logger.warning("dropped a line from \(envelope.origin): \(reason)")
            return .none
        }
        context.logger.notice("invalid line from \(envelope.origin): \(reason)")
        return .reply(.invalid(envelope.line.readableBytesView))
    }
}
