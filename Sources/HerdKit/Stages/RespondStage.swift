import Logging

/// Builds the reply: the AT line for IAMAT; for WHATSAT the stored AT line and the provider's JSON.
/// Peer updates get no reply. The last stage of the default pipeline.
///
/// A provider that has the answer at hand (the fixture, a cache hit) answers on the event loop; one that
/// must go to the network answers later, and the connection's later lines wait for it.
public struct RespondStage: MessageHandler {
    public init() {}

    public func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        switch envelope.message {
        case .iamat:
            guard let update = envelope.update else { return .reply(.invalid(envelope.line.readableBytesView)) }
            return .reply(.line(update.bytes))
        case .whatsat(let query):
            guard let record = context.store.record(for: query.clientID) else {
                context.logger.notice("WHATSAT for unknown client \(query.clientID)")
                return .reply(.invalid(envelope.line.readableBytesView))
            }
            let placeQuery = PlaceQuery(
                latitude: record.coordinates.latitude, longitude: record.coordinates.longitude,
                radiusMetres: query.radiusMetres, limit: query.bound)
            if let response = context.provider.immediatePlaces(placeQuery) {
                return .reply(Self.reply(record, response.limited(to: query.bound)))
            }
            let provider = context.provider
            let logger = context.logger
            return .suspending(on: context.eventLoop) {
                let response = await Self.places(placeQuery, from: provider, logger: logger)
                return Self.reply(record, response.limited(to: query.bound))
            }
        case .at, nil:
            return next(envelope)
        }
    }

    static func reply(_ record: ATLine, _ response: PlacesResponse) -> Reply {
        Reply(bytes: Replies.places(record, json: JSONWriter.bytes(response.json)))
    }

    private static func places(
        _ query: PlaceQuery, from provider: any PlaceProvider, logger: Logger
    ) async -> PlacesResponse {
        do {
            return try await provider.nearbyPlaces(query)
        } catch let error as PlaceProviderError {
            logger.warning("place provider failed: \(error)")
            return .failure(error.status, message: error.message)
        } catch {
            logger.warning("place provider failed: \(error)")
            return .failure(.unknownError, message: "The place provider failed: \(error)")
        }
    }
}
