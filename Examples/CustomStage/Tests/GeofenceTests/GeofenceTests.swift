import Foundation
import Geofence
import HerdCLI
import HerdKit
import HerdTesting
import Testing

@Suite("The geofence stage, in a running server")
struct GeofenceTests {
    static let campus = "{name: campus, latitude: 34.068930, longitude: -118.445127, radius_km: 1}"
    static let outside = "+34.000000-118.000000"

    /// A one-server herd, Alford, with `geofence` and these options as the second stage.
    static func yaml(geofence options: String) -> String {
        """
        servers: [{name: Alford, client_port: 0, peer_port: 0}]
        pipeline: [parse, {name: geofence, options: \(options)}, dedupe, store, flood, respond]
        """
    }

    static var registry: HerdRegistry {
        var registry = HerdRegistry.standard
        GeofenceStage.register(in: &registry)
        return registry
    }

    @Test("a client that enters an area is logged once, and every report is answered as usual")
    func entering() async throws {
        try await withTestHerd(yaml: Self.yaml(geofence: "{areas: [\(Self.campus)]}"), registry: Self.registry) {
            herd in
            // Outside, then at the centre of campus, then still on campus: one entry.
            try await herd.report("kiwi", at: "Alford", location: Self.outside, time: "1621464827.5")
            try await herd.report("kiwi", at: "Alford")
            try await herd.report("kiwi", at: "Alford", location: "+34.068000-118.445000", time: "1621464828.1")
            let log = try await herd.log("Alford")
            #expect(log.components(separatedBy: "geofence: kiwi entered campus").count == 2, "log:\n\(log)")
        }
    }

    @Test("with reject_outside, a report from outside every area is answered '? ...' and not stored")
    func rejectOutside() async throws {
        let options = "{reject_outside: true, areas: [\(Self.campus)]}"
        try await withTestHerd(yaml: Self.yaml(geofence: options), registry: Self.registry) { herd in
            let lines = ["IAMAT kiwi \(Self.outside) 1621464827.5", "WHATSAT kiwi 1 1", Wire.iamat("kiwi")]
            let replies = try await herd.send(lines.map { $0 + "\n" }.joined(), to: "Alford")
            let refused = "? IAMAT kiwi \(Self.outside) 1621464827.5\n? WHATSAT kiwi 1 1\n"
            #expect(replies.hasPrefix(refused), "replies:\n\(replies)")
            try Wire.expectATReply(String(replies.dropFirst(refused.count)), server: "Alford", client: "kiwi")
        }
    }

    @Test("bad options stop the server from starting, naming the file, line and key")
    func badOptions() async throws {
        let badArea = "{name: campus, latitude: 34.07, longitude: -118.44, radius_km: -1}"
        #expect(
            try await Self.startFailure(geofence: "{areas: [\(badArea)]}")
                == "herd.yaml:2: pipeline[1].options.areas[0].radius_km: must be between 0.001 and 20000.0, got -1")
        #expect(
            try await Self.startFailure(geofence: "{area: []}")
                == "herd.yaml:2: pipeline[1].options.area: unknown key; expected one of: areas, reject_outside")
    }

    /// The error Alford fails to start with, given these geofence options, with paths relative to the herd's
    /// directory (as the user's config file would be).
    static func startFailure(geofence options: String) async throws -> String {
        let herd = try TestHerd(yaml: yaml(geofence: options), registry: registry)
        defer { try? FileManager.default.removeItem(atPath: herd.directory) }
        do {
            try await herd.start("Alford")
        } catch {
            return "\(error)".replacingOccurrences(of: herd.directory + "/", with: "")
        }
        await herd.stopAll()
        return "Alford started"
    }
}
