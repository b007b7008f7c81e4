/// A Nearby Search (legacy web service) response: what follows the AT line in a WHATSAT reply.
public struct PlacesResponse: Sendable, Hashable {
    /// The `status` values Google's legacy API uses.
    public struct Status: RawRepresentable, Sendable, Hashable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let ok = Status(rawValue: "OK")
        public static let zeroResults = Status(rawValue: "ZERO_RESULTS")
        public static let overQueryLimit = Status(rawValue: "OVER_QUERY_LIMIT")
        public static let requestDenied = Status(rawValue: "REQUEST_DENIED")
        public static let invalidRequest = Status(rawValue: "INVALID_REQUEST")
        public static let unknownError = Status(rawValue: "UNKNOWN_ERROR")
    }

    public var htmlAttributions: [JSONValue]
    public var results: [JSONValue]
    public var status: Status
    public var nextPageToken: String?
    public var errorMessage: String?

    public init(
        results: [JSONValue], status: Status? = nil, htmlAttributions: [JSONValue] = [],
        nextPageToken: String? = nil, errorMessage: String? = nil
    ) {
        self.results = results
        self.status = status ?? (results.isEmpty ? .zeroResults : .ok)
        self.htmlAttributions = htmlAttributions
        self.nextPageToken = nextPageToken
        self.errorMessage = errorMessage
    }

    /// A failed lookup: empty results, the failure in `status` and `error_message`.
    public static func failure(_ status: Status, message: String) -> PlacesResponse {
        PlacesResponse(results: [], status: status, errorMessage: message)
    }

    /// The response cut to at most `limit` results (status kept unless nothing is left).
    public func limited(to limit: Int) -> PlacesResponse {
        guard results.count > limit else { return self }
        var copy = self
        copy.results = Array(results.prefix(limit))
        if copy.results.isEmpty && status == .ok { copy.status = .zeroResults }
        return copy
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "html_attributions": .array(htmlAttributions),
            "results": .array(results),
            "status": .string(status.rawValue),
        ]
        if let nextPageToken { members["next_page_token"] = .string(nextPageToken) }
        if let errorMessage { members["error_message"] = .string(errorMessage) }
        return .object(members)
    }
}
