import Foundation
import HerdCLI
import HerdKit
import PlaceLookup
import Testing
import Transports

/// The servers' receive time, fixed so the skew in AT lines is known: 1621464828.223372036.
let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_372_036)

@Suite("Looking up places through a running herd")
struct PlaceLookupTests {
    /// Four places north of the client, 100 m, 300 m, 600 m and 5 km away, as the fixture provider reads them.
    static let places = """
        [
          {"name": "Far", "geometry": {"location": {"lat": 34.11390, "lng": -118.445127}}},
          {"name": "Near", "geometry": {"location": {"lat": 34.06983, "lng": -118.445127}}},
          {"name": "Middle", "geometry": {"location": {"lat": 34.07163, "lng": -118.445127}}},
          {"name": "Next", "geometry": {"location": {"lat": 34.07433, "lng": -118.445127}}}
        ]
        """
    static let time = ClientTime(isNegative: false, seconds: 1_621_464_827, nanoseconds: 959_498_503)

    @Test("a report, then the nearest places by name, nearest first, at most the bound")
    func lookup() async throws {
        let answer = try await withLookup { lookup in
            try await lookup.run(
                client: "kiwi", latitude: 34.068930, longitude: -118.445127, time: Self.time, radiusKilometres: 1,
                bound: 2)
        }
        #expect(
            answer
                == PlaceLookup.Answer(
                    atLine: "AT Alford +0.263873533 kiwi +34.068930-118.445127 1621464827.959498503", status: "OK",
                    names: ["Near", "Middle"]))
    }

    @Test("a report the server refuses is an error that quotes the server's reply")
    func refused() async throws {
        await #expect(throws: PlaceLookup.Failure.refused("? IAMAT kiwi +91.000000+0.000000 1621464827.959498503\n")) {
            try await withLookup { lookup in
                try await lookup.run(
                    client: "kiwi", latitude: 91, longitude: 0, time: Self.time, radiusKilometres: 1, bound: 1)
            }
        }
    }

    /// Runs a one-server herd (Alford, on a free port, with the places above) while `body` uses a lookup
    /// that reports to and asks that server.
    func withLookup<Result: Sendable>(_ body: (PlaceLookup) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-example-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.places.write(toFile: directory + "/places.json", atomically: true, encoding: .utf8)
        let yaml = """
            servers: [{name: Alford, client_port: 0, peer_port: 0}]
            provider: {name: fixture, options: {file: places.json}}
            log_dir: logs
            """
        let config = try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: directory)
        let server = try HerdServer(name: "Alford", config: config, registry: .standard, clock: FixedClock(receivedAt))
        return try await withRunningServers([server]) { endpoints in
            let alford = HerdClient(endpoint: try #require(endpoints["Alford"]).clients)
            return try await body(PlaceLookup(reportTo: alford, askAt: alford))
        }
    }
}
