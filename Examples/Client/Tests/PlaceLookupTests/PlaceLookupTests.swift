import Foundation
import HerdKit
import HerdTesting
import PlaceLookup
import Testing
import Transports

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

    @Test("a report to one server, then the nearest places from its neighbour, nearest first, at most the bound")
    func lookup() async throws {
        try await withLookup { lookup in
            let answer = try await lookup.run(
                client: "kiwi", latitude: 34.068930, longitude: -118.445127, time: Self.time, radiusKilometres: 1,
                bound: 2)
            // The AT line is the one Alford made, as Bolden tells it.
            try Wire.expectATReply(answer.atLine + "\n", server: "Alford", client: "kiwi")
            #expect(answer.status == "OK")
            #expect(answer.names == ["Near", "Middle"])
        }
    }

    @Test("a report the server refuses is an error that quotes the server's reply")
    func refused() async throws {
        try await withLookup { lookup in
            await #expect(
                throws: PlaceLookup.Failure.refused("? IAMAT kiwi +91.000000+0.000000 1621464827.959498503\n")
            ) {
                try await lookup.run(
                    client: "kiwi", latitude: 91, longitude: 0, time: Self.time, radiusKilometres: 1, bound: 1)
            }
        }
    }

    @Test("a trail of reports over one open connection: each answered in turn, the herd keeps the last")
    func trail() async throws {
        let trail = [(34.068930, 827), (34.069830, 837), (34.071630, 847)].map { latitude, seconds in
            PlaceLookup.Position(
                latitude: latitude, longitude: -118.445127,
                time: ClientTime(isNegative: false, seconds: 1_621_464_000 + UInt64(seconds), nanoseconds: 0))
        }
        try await withLookup { lookup in
            let atLines = try await lookup.reportTrail(client: "kiwi", trail)
            #expect(atLines.count == trail.count)
            for (atLine, position) in zip(atLines, trail) {
                try Wire.expectATReply(
                    atLine + "\n", server: "Alford", client: "kiwi",
                    location: HerdClient.iso6709(latitude: position.latitude, longitude: position.longitude),
                    time: "\(position.time)")
            }
            let reply = try await lookup.askAt.places(near: "kiwi", radiusKilometres: 1, bound: 1)
            #expect(reply.hasPrefix((atLines.last ?? "") + "\n"), "reply: \(reply.prefix(200))")
        }
    }

    /// Runs a herd of two linked servers, Alford and Bolden, whose fixture provider has the places above,
    /// while `body` uses a lookup that reports to Alford and asks Bolden.
    func withLookup(_ body: (PlaceLookup) async throws -> Void) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("places-\(UUID()).json").path
        try Self.places.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let yaml = """
            servers:
              - {name: Alford, client_port: 0, peer_port: 0}
              - {name: Bolden, client_port: 0, peer_port: 0}
            links: [[Alford, Bolden]]
            peer_links: {redial_initial_ms: 20, redial_max_ms: 200}
            provider: {name: fixture, options: {file: \(file)}}
            """
        try await withTestHerd(yaml: yaml) { herd in
            let alford = HerdClient(endpoint: try await herd.endpoints("Alford").clients)
            let bolden = HerdClient(endpoint: try await herd.endpoints("Bolden").clients)
            try await body(PlaceLookup(reportTo: alford, askAt: bolden))
        }
    }
}
