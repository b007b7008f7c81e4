/// Builds the reply: the AT line for IAMAT; for WHATSAT the stored AT line and the provider's JSON.
/// Peer updates get no reply. The last stage of the default pipeline.
public struct RespondStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        switch envelope.message {
        case .iamat:
            guard let update = envelope.update else { return .invalid(envelope.line) }
            return Reply(bytes: Replies.at(update))
        case .whatsat(let query):
            guard let record = context.store.record(for: query.clientID) else {
                context.logger.notice("WHATSAT for unknown client \(query.clientID)")
                return .invalid(envelope.line)
            }
            let response = await places(for: query, near: record.coordinates, context: context)
            return Reply(bytes: Replies.places(record, json: JSONWriter.bytes(response.json)))
        case .at, nil:
            return try await next(envelope, context)
        }
    }

    private func places(for query: WhatsAt, near point: Coordinates, context: HandlerContext) async -> PlacesResponse {
        let placeQuery = PlaceQuery(
            latitude: point.latitude, longitude: point.longitude, radiusMetres: query.radiusMetres,
            limit: query.bound)
        do {
            return try await context.provider.nearbyPlaces(placeQuery).limited(to: query.bound)
        } catch let error as PlaceProviderError {
            context.logger.warning("place provider failed: \(error)")
            return .failure(error.status, message: error.message)
        } catch {
            context.logger.warning("place provider failed: \(error)")
            return .failure(.unknownError, message: "The place provider failed: \(error)")
        }
    }
}
