import Foundation
import HerdKit
import Transports

/// What an application does with a herd: report where a user is to one server, then ask a server (the same
/// or another) for places nearby, and read the places' names out of the reply.
public struct PlaceLookup: Sendable {
    /// The server that takes the location report.
    public var reportTo: HerdClient
    /// The server asked for places; a neighbour hears of the report through the herd.
    public var askAt: HerdClient

    public init(reportTo: HerdClient, askAt: HerdClient) {
        self.reportTo = reportTo
        self.askAt = askAt
    }

    /// What the herd answered.
    public struct Answer: Sendable, Hashable {
        /// The server's AT line for the report (without its LF).
        public var atLine: String
        /// The `status` of the places document: `OK`, `ZERO_RESULTS`, or a provider failure.
        public var status: String
        /// The places' names, nearest first.
        public var names: [String]

        public init(atLine: String, status: String, names: [String]) {
            self.atLine = atLine
            self.status = status
            self.names = names
        }
    }

    /// Why a lookup failed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The server answered `? ...`: it refused the command.
        case refused(String)
        /// The reply was not an AT line followed by a places document.
        case unreadable(String)

        public var description: String {
            switch self {
            case .refused(let reply): "the server refused the command: \(reply)"
            case .unreadable(let reply): "not a herd reply: \(reply)"
            }
        }
    }

    /// Reports `client` at (`latitude`, `longitude`) with client time `time`, then asks for up to `bound`
    /// places within `radiusKilometres`. A server that has not heard of the report yet answers `? WHATSAT ...`;
    /// the question is asked again up to `attempts` times, 100 ms apart.
    public func run(
        client: String, latitude: Double, longitude: Double, time: ClientTime, radiusKilometres: Double,
        bound: Int, attempts: Int = 50
    ) async throws -> Answer {
        let report = try await reportTo.report(client: client, latitude: latitude, longitude: longitude, time: time)
        guard report.hasPrefix("AT ") else { throw Failure.refused(report) }
        var reply = ""
        for attempt in 1...max(1, attempts) {
            reply = try await askAt.places(near: client, radiusKilometres: radiusKilometres, bound: bound)
            if !reply.hasPrefix("?") { break }
            if attempt < attempts { try await Task.sleep(for: .milliseconds(100)) }
        }
        if reply.hasPrefix("?") { throw Failure.refused(reply) }
        return try Self.answer(report: report, places: reply)
    }

    /// Reads a WHATSAT reply: the AT line, then the Nearby Search JSON document.
    static func answer(report: String, places reply: String) throws(Failure) -> Answer {
        guard let newline = reply.firstIndex(of: "\n"),
            let document = try? JSONDecoder().decode(JSONValue.self, from: Data(reply[newline...].utf8)),
            let status = document["status"]?.stringValue
        else { throw .unreadable(reply) }
        let names = (document["results"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        return Answer(atLine: String(report.prefix { $0 != "\n" }), status: status, names: names)
    }
}
