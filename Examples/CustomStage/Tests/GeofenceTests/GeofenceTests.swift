import Foundation
import Geofence
import HerdCLI
import HerdKit
import Testing
import Transports

/// The servers' receive time, fixed so the skew in AT lines is known: 1621464828.223372036.
let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_372_036)

@Suite("The geofence stage, in a running server")
struct GeofenceTests {
    static let campus = "{name: campus, latitude: 34.068930, longitude: -118.445127, radius_km: 1}"
    static let inside = "IAMAT kiwi +34.068930-118.445127 1621464827.959498503"
    static let outside = "IAMAT kiwi +34.000000-118.000000 1621464827.5"

    @Test("a client that enters an area is logged once, and every report is answered as usual")
    func entering() async throws {
        let (replies, log) = try await withServer(geofence: "{areas: [\(Self.campus)]}") { client in
            [
                try await client.exchange([Self.outside]),
                try await client.exchange([Self.inside]),
                try await client.exchange(["IAMAT kiwi +34.068000-118.445000 1621464828.1"]),
            ]
        }
        #expect(
            replies == [
                "AT Alford +0.723372036 kiwi +34.000000-118.000000 1621464827.5\n",
                "AT Alford +0.263873533 kiwi +34.068930-118.445127 1621464827.959498503\n",
                "AT Alford +0.123372036 kiwi +34.068000-118.445000 1621464828.1\n",
            ])
        #expect(log.components(separatedBy: "geofence: kiwi entered campus").count == 2, "log:\n\(log)")
    }

    @Test("with reject_outside, a report from outside every area is answered '? ...' and not stored")
    func rejectOutside() async throws {
        let (replies, _) = try await withServer(geofence: "{reject_outside: true, areas: [\(Self.campus)]}") {
            client in
            try await client.exchange([Self.outside, "WHATSAT kiwi 1 1", Self.inside])
        }
        #expect(
            replies == """
                ? IAMAT kiwi +34.000000-118.000000 1621464827.5
                ? WHATSAT kiwi 1 1
                AT Alford +0.263873533 kiwi +34.068930-118.445127 1621464827.959498503

                """)
    }

    @Test("bad options stop the server from starting, naming the file, line and key")
    func badOptions() throws {
        let directory = try TemporaryDirectory()
        let badArea = "{name: campus, latitude: 34.07, longitude: -118.44, radius_km: -1}"
        #expect {
            try Self.makeServer(geofence: "{areas: [\(badArea)]}", in: directory.path)
        } throws: { error in
            "\(error)"
                == "herd.yaml:2: pipeline[1].options.areas[0].radius_km: must be between 0.001 and 20000.0, got -1"
        }
        #expect {
            try Self.makeServer(geofence: "{area: []}", in: directory.path)
        } throws: { error in
            "\(error)" == "herd.yaml:2: pipeline[1].options.area: unknown key; expected one of: areas, reject_outside"
        }
    }

    /// Server Alford of a one-server herd on a free port, with `geofence` and these options as the second stage.
    static func makeServer(geofence options: String, in directory: String) throws -> HerdServer {
        let yaml = """
            servers: [{name: Alford, client_port: 0, peer_port: 0}]
            pipeline: [parse, {name: geofence, options: \(options)}, dedupe, store, flood, respond]
            log_dir: logs
            """
        var registry = HerdRegistry.standard
        GeofenceStage.register(in: &registry)
        let config = try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: directory)
        return try HerdServer(name: "Alford", config: config, registry: registry, clock: FixedClock(receivedAt))
    }

    /// Runs the server of ``makeServer(geofence:in:)`` while `body` talks to it; returns what `body` returned
    /// and the server's log once it has stopped.
    func withServer<Result: Sendable>(
        geofence options: String, _ body: (HerdClient) async throws -> Result
    ) async throws -> (Result, log: String) {
        let directory = try TemporaryDirectory()
        let server = try Self.makeServer(geofence: options, in: directory.path)
        let result = try await withRunningServers([server]) { endpoints in
            try await body(HerdClient(endpoint: try #require(endpoints["Alford"]).clients))
        }
        return (result, try String(contentsOfFile: directory.path + "/logs/Alford.log", encoding: .utf8))
    }
}

/// A fresh directory, removed when the value goes away.
final class TemporaryDirectory {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("herd-example-\(UUID())").path

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
