/// Turns the line into a ``Message``; an invalid line is answered `? ...` here and goes no further.
///
/// Clients may send IAMAT and WHATSAT; peers may send only AT. A blank line is ignored.
public struct ParseStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        var envelope = envelope
        let message: Message?
        do {
            message = try MessageParser.parse(envelope.line)
        } catch {
            return refuse(envelope, reason: error.reason, context: context)
        }
        guard let message else { return nil }
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
        return try await next(envelope, context)
    }

    private func refuse(_ envelope: Envelope, reason: String, context: HandlerContext) -> Reply? {
        context.logger.notice("invalid line from \(envelope.origin): \(reason)")
        if case .peer = envelope.origin { return nil }
        return .invalid(envelope.line)
    }
}
