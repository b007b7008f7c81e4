import Foundation
import HerdTesting
import Testing

extension HerdEndToEndTests {
    @Suite("The herd command")
    struct CommandLineTests {
        private static let names = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]
        private static let neighbours = [
            "Alford": "Parker, Welsh", "Bolden": "Parker, Welsh", "Hamilton": "Parker",
            "Parker": "Alford, Bolden, Hamilton", "Welsh": "Alford, Bolden",
        ]

        /// A scratch directory holding a config file for the reference herd on `ports` (five client ports, then
        /// five peer ports); `clientPortOfFirst` overrides Alford's client port as written.
        ///
        private struct ConfigFile {
            let directory: String
            let path: String
            let logDirectory: String
            let clientPorts: [Int]
            let peerPorts: [Int]
            /// Holds the ports until the test ends, so no other process takes them between runs of `herd up`.
            let reservation: PortReservation

            init(clientPortOfFirst: String? = nil) throws {
                reservation = try PortReservation(count: 10)
                let ports = reservation.ports
                directory =
                    FileManager.default.temporaryDirectory
                    .appendingPathComponent("herd-e2e-cli-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                path = directory + "/herd.yaml"
                logDirectory = directory + "/logs"
                clientPorts = Array(ports[0..<5])
                peerPorts = Array(ports[5..<10])
                var yaml = "servers:\n"
                for (index, name) in CommandLineTests.names.enumerated() {
                    let clientPort =
                        index == 0 ? clientPortOfFirst ?? String(clientPorts[index]) : String(clientPorts[index])
                    yaml +=
                        "  - {name: \(name), host: 127.0.0.1, client_port: \(clientPort), peer_port: \(peerPorts[index])}\n"
                }
                yaml += """
                    links:
                      - [Alford, Parker]
                      - [Alford, Welsh]
                      - [Bolden, Parker]
                      - [Bolden, Welsh]
                      - [Hamilton, Parker]
                    transport: {clients: tcp, peers: tcp}
                    provider: fixture
                    log_dir: \(logDirectory)
                    peer_links: {redial_initial_ms: 250, redial_max_ms: 1000}

                    """
                try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            }

            func remove() {
                reservation.release()
                try? FileManager.default.removeItem(atPath: directory)
            }

            /// The line `herd up` prints for server `index` once it is bound.
            func boundLine(_ index: Int) -> String {
                "\(CommandLineTests.names[index]): clients 127.0.0.1:\(clientPorts[index])  peers 127.0.0.1:\(peerPorts[index])"
            }
        }

        @Test func checkPrintsTheTopologyOfAValidConfig() async throws {
            let config = try ConfigFile()
            defer { config.remove() }
            let result = try await Subprocess.runHerd(["check", "--config", config.path])
            var expected = """
                \(config.path): OK
                transport: clients tcp, peers tcp
                peer authentication: shared secret made by the servers of this machine in \(config.directory)/data/peer.secret
                provider: fixture
                pipeline: parse -> dedupe -> store -> flood -> respond
                log_dir: \(config.logDirectory)
                servers:

                """
            for (index, name) in Self.names.enumerated() {
                expected +=
                    "  \(name)  clients 127.0.0.1:\(config.clientPorts[index])  peers 127.0.0.1:\(config.peerPorts[index])"
                    + "  links: \(Self.neighbours[name]!)\n"
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout == expected)
        }

        @Test func checkNamesTheFileAndKeyOfABadPort() async throws {
            let config = try ConfigFile(clientPortOfFirst: "70000")
            defer { config.remove() }
            let result = try await Subprocess.runHerd(["check", "--config", config.path])
            let output = result.stdout + result.stderr
            #expect(result.status != 0)
            #expect(output.contains(config.path), "\(output)")
            #expect(output.contains("servers[0].client_port"), "\(output)")
            #expect(output.contains("70000"), "\(output)")
            // The server entry is on line 2 of the file.
            #expect(output.contains("\(config.path):2:"), "\(output)")
        }

        @Test func upServesTheHerdStopsOnSIGTERMAndRestartsOnTheSamePorts() async throws {
            let config = try ConfigFile()
            defer { config.remove() }
            let herd = try Subprocess.herdExecutable()
            let alford = "127.0.0.1:\(config.clientPorts[0])"
            let hamiltonPort = config.clientPorts[2]

            for round in 1...2 {
                let up = try Subprocess(herd, ["up", "--config", config.path])
                defer { up.forceKill() }
                let bound = await up.waitForOutput(timeout: .seconds(20)) { output in
                    (0..<5).allSatisfy { output.contains(config.boundLine($0) + "\n") }
                }
                try #require(bound, "round \(round): \(up.standardOutput.text) \(up.standardError.text)")
                #expect(up.standardOutput.text.contains("logs in \(config.logDirectory)"))

                let client = "cli.client.\(round)"
                let sent = try await Subprocess.runHerd(["send", alford, Wire.iamat(client)])
                #expect(sent.status == 0, "\(sent.stderr)")
                let atLine = try Wire.expectATReply(sent.stdout, server: "Alford", client: client)

                // Hamilton is two links from Alford; wait until the update has arrived there.
                var places = ""
                try await eventually("Hamilton to learn \(client)") {
                    places = try await RawClient.exchange(port: hamiltonPort, "WHATSAT \(client) 10 5\n")
                    return places.hasPrefix(atLine + "\n")
                }
                try Wire.expectPlacesReply(places, atLine: atLine, bound: 5)
                let asked = try await Subprocess.runHerd([
                    "send", "127.0.0.1:\(hamiltonPort)", "WHATSAT \(client) 10 5",
                ])
                #expect(asked.status == 0, "\(asked.stderr)")
                #expect(asked.stdout == places)

                up.terminate()
                let status = await up.waitForExit(timeout: .seconds(10))
                #expect(
                    status == 0,
                    "round \(round): herd up ended with \(String(describing: status)): \(up.standardError.text)")
                for name in Self.names {
                    #expect(FileManager.default.fileExists(atPath: "\(config.logDirectory)/\(name).log"))
                }
            }
        }

        /// Stopping must not depend on nobody connecting at that moment: clients connect whenever they like.
        ///
        /// Every connection accepted, handed over or not, is closed when the servers stop.
        @Test func upExitsCleanlyOnSIGTERMWhileClientsAreConnecting() async throws {
            let config = try ConfigFile()
            defer { config.remove() }
            let herd = try Subprocess.herdExecutable()
            for round in 1...5 {
                let up = try Subprocess(herd, ["up", "--config", config.path])
                defer { up.forceKill() }
                let bound = await up.waitForOutput(timeout: .seconds(20)) { output in
                    (0..<5).allSatisfy { output.contains(config.boundLine($0) + "\n") }
                }
                try #require(bound, "round \(round): \(up.standardOutput.text) \(up.standardError.text)")
                let connections = try RawClient.openConnections(port: config.clientPorts[0], count: 128)
                defer { RawClient.closeAll(connections) }
                up.terminate()
                let status = await up.waitForExit(timeout: .seconds(10))
                let firstError = up.standardError.text.split(separator: "\n").first ?? ""
                #expect(status == 0, "round \(round): herd up ended with \(String(describing: status)): \(firstError)")
            }
        }
    }
}
