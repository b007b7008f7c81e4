import CSVPlaces
import Foundation
import HerdCLI
import HerdKit
import Testing
import Transports

/// The servers' receive time, fixed so the skew in AT lines is known: 1621464828.223372036.
let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_372_036)

@Suite("The csv place provider, in a running server")
struct CSVPlacesTests {
    static let places = #"""
        name,latitude,longitude,vicinity,types
        Boelter Hall,34.069370,-118.443080,"580 Portola Plaza, Los Angeles",university;point_of_interest
        "The ""Pier""",34.008650,-118.497450,Santa Monica,tourist_attraction
        Ackerman Union,34.070430,-118.444100,,
        """#
    static let report = "IAMAT kiwi +34.068930-118.445127 1621464827.959498503"
    static let atLine = "AT Alford +0.263873533 kiwi +34.068930-118.445127 1621464827.959498503"

    @Test("WHATSAT answers with the CSV's places within the radius, nearest first (192 m, then 195 m)")
    func nearest() async throws {
        let replies = try await withServer(places: Self.places) { client in
            try await client.exchange([Self.report, "WHATSAT kiwi 1 5", "WHATSAT kiwi 0.1 5"])
        }
        #expect(
            replies == """
                \(Self.atLine)
                \(Self.atLine)
                {
                   "html_attributions" : [],
                   "results" : [
                      {
                         "geometry" : {
                            "location" : {
                               "lat" : 34.07043,
                               "lng" : -118.4441
                            }
                         },
                         "name" : "Ackerman Union",
                         "place_id" : "csv-4"
                      },
                      {
                         "geometry" : {
                            "location" : {
                               "lat" : 34.06937,
                               "lng" : -118.44308
                            }
                         },
                         "name" : "Boelter Hall",
                         "place_id" : "csv-2",
                         "types" : [
                            "university",
                            "point_of_interest"
                         ],
                         "vicinity" : "580 Portola Plaza, Los Angeles"
                      }
                   ],
                   "status" : "OK"
                }

                \(Self.atLine)
                {
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "ZERO_RESULTS"
                }
                """ + "\n\n")  // A WHATSAT reply ends in an empty line.
    }

    @Test("quoted fields keep their commas and quotes")
    func quoting() async throws {
        let replies = try await withServer(places: Self.places) { client in
            try await client.exchange(["IAMAT surfer +34.008650-118.497450 1621464827.5", "WHATSAT surfer 1 1"])
        }
        #expect(replies.contains(#""name" : "The \"Pier\"""#))
    }

    @Test("a bad CSV file stops the server from starting, naming the config key, the file and the line")
    func badFile() throws {
        let directory = try TemporaryDirectory()
        let bad = "name,latitude,longitude\nRoyce Hall,north,-118.44\n"
        #expect {
            try Self.makeServer(places: bad, in: directory.path)
        } throws: { error in
            "\(error)"
                == "herd.yaml:2: provider.options.file: \(directory.path)/places.csv:2: latitude: expected decimal "
                + "degrees between -90 and 90, got 'north'"
        }
    }

    /// Server Alford of a one-server herd on a free port whose provider is `csv`, reading `places` from
    /// `places.csv` in `directory`.
    static func makeServer(places: String, in directory: String) throws -> HerdServer {
        try places.write(toFile: directory + "/places.csv", atomically: true, encoding: .utf8)
        let yaml = """
            servers: [{name: Alford, client_port: 0, peer_port: 0}]
            provider: {name: csv, options: {file: places.csv}}
            log_dir: logs
            """
        var registry = HerdRegistry.standard
        CSVPlaceProvider.register(in: &registry)
        let config = try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: directory)
        return try HerdServer(name: "Alford", config: config, registry: registry, clock: FixedClock(receivedAt))
    }

    /// Runs the server of ``makeServer(places:in:)`` while `body` talks to it.
    func withServer<Result: Sendable>(
        places: String, _ body: (HerdClient) async throws -> Result
    ) async throws -> Result {
        let directory = try TemporaryDirectory()
        let server = try Self.makeServer(places: places, in: directory.path)
        return try await withRunningServers([server]) { endpoints in
            try await body(HerdClient(endpoint: try #require(endpoints["Alford"]).clients))
        }
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
