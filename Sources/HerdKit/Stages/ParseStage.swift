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
        switch (message, envelope.origin) {
        case (.iamat(let report), .client):
            envelope.update = report.atLine(server: context.serverName, receivedAt: envelope.receivedAt)
        case (.whatsat, .client):
            break
        case (.at(let line), .peer):
            envelope.update = line
        case (.at, .client):
            return refuse(envelope, reason: "AT is only accepted from peers", context: context)
        case (_, .peer):
            return refuse(envelope, reason: "peers may only send AT lines", context: context)
        }
        envelope.message = message
        return next(envelope)
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
        context.logger.notice("invalid line from \(envelope.origin): \(reason)")
        if case .peer = envelope.origin { return .none }
        return .reply(.invalid(envelope.line.readableBytesView))
    }
}
