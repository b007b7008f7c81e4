import CSVPlaces
import Foundation
import HerdCLI
import HerdKit
import HerdTesting
import Testing

@Suite("The csv place provider, in a running server")
struct CSVPlacesTests {
    static let places = #"""
        name,latitude,longitude,vicinity,types
        Boelter Hall,34.069370,-118.443080,"580 Portola Plaza, Los Angeles",university;point_of_interest
        "The ""Pier""",34.008650,-118.497450,Santa Monica,tourist_attraction
        Ackerman Union,34.070430,-118.444100,,
        """#

    @Test("WHATSAT answers with the CSV's places within the radius, nearest first (192 m, then 195 m)")
    func nearest() async throws {
        try await withCSVHerd(places: Self.places) { herd in
            let atLine = try await herd.report("kiwi", at: "Alford")
            let replies = try await herd.send("WHATSAT kiwi 1 5\nWHATSAT kiwi 0.1 5\n", to: "Alford")
            #expect(
                replies == """
                    \(atLine)
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

                    \(atLine)
                    {
                       "html_attributions" : [],
                       "results" : [],
                       "status" : "ZERO_RESULTS"
                    }
                    """ + "\n\n")  // A WHATSAT reply ends in an empty line.
        }
    }

    @Test("quoted fields keep their commas and quotes")
    func quoting() async throws {
        try await withCSVHerd(places: Self.places) { herd in
            try await herd.report("surfer", at: "Alford", location: "+34.008650-118.497450", time: "1621464827.5")
            let reply = try await herd.whatsat("surfer", at: "Alford", radius: "1", bound: 1)
            #expect(reply.contains(#""name" : "The \"Pier\"""#), "reply:\n\(reply)")
        }
    }

    @Test("the answer is at hand: immediatePlaces gives it at once, the same as nearbyPlaces")
    func immediate() async throws {
        let provider = try CSVPlaceProvider(csv: Self.places, source: "places.csv")
        let query = PlaceQuery(latitude: 34.068930, longitude: -118.445127, radiusMetres: 1000, limit: 1)
        let now = try #require(provider.immediatePlaces(query))
        #expect(now.results.map { $0["name"]?.stringValue } == ["Ackerman Union"])
        #expect(try await provider.nearbyPlaces(query) == now)
    }

    @Test("a bad CSV file stops the server from starting, naming the config key, the file and the line")
    func badFile() async throws {
        let herd = try TestHerd(yaml: Self.yaml(file: "places.csv"), registry: Self.registry)
        defer { try? FileManager.default.removeItem(atPath: herd.directory) }
        try "name,latitude,longitude\nRoyce Hall,north,-118.44\n".write(
            toFile: herd.directory + "/places.csv", atomically: true, encoding: .utf8)
        await #expect {
            try await herd.start("Alford")
        } throws: { error in
            "\(error)".replacingOccurrences(of: herd.directory + "/", with: "")
                == "herd.yaml:2: provider.options.file: places.csv:2: latitude: expected decimal degrees between -90 "
                + "and 90, got 'north'"
        }
    }

    /// A one-server herd, Alford, whose provider is `csv` reading `file` (relative to the herd's directory).
    static func yaml(file: String) -> String {
        """
        servers: [{name: Alford, client_port: 0, peer_port: 0}]
        provider: {name: csv, options: {file: \(file)}}
        """
    }

    static var registry: HerdRegistry {
        var registry = HerdRegistry.standard
        CSVPlaceProvider.register(in: &registry)
        return registry
    }

    /// Runs `body` with the herd of ``yaml(file:)`` answering from `places`.
    func withCSVHerd(places: String, _ body: (TestHerd) async throws -> Void) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("places-\(UUID()).csv").path
        try places.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await withTestHerd(yaml: Self.yaml(file: file), registry: Self.registry, body)
    }
}
