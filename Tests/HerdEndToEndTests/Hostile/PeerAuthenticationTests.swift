import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 12, item 1: over TCP a peer link proves the herd's shared secret in its hello, so reaching a peer
    /// port is not enough to rewrite anyone's location.
    @Suite("Peer links prove a shared secret")
    struct PeerAuthenticationTests {
        /// Plays Parker at Alford's peer port: the handshake as `secret` allows, then an AT line; returns the
        /// answer to the hello (nil when Alford closed instead).
        private static func inject(_ herd: ProcessHerd, client: String, secret: PeerSecret?) async throws -> String? {
            try await RawConnection.onThread {
                let link = try RawConnection(port: herd.peerPorts["Alford"]!)
                let answer = try link.sayHello(as: "Parker", to: "Alford", secret: secret)
                try? link.write("AT Parker +0.000000001 \(client) \(Wire.location) \(Wire.time)\n")
                // A link that is up acknowledges the update; a refused one is closed.
                if answer?.hasPrefix("EPOCH ") == true { _ = try link.readLine() } else { _ = try? link.readToEnd() }
                return answer
            }
        }

        @Test func aPeerWithoutTheSecretIsRefusedLoggedAndItsUpdateNeverStored() async throws {
            try await withProcessHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")]) { herd in
                try await herd.start("Alford")
                let wrong = PeerSecret(text: "not the secret of this herd at all")!
                #expect(try await Self.inject(herd, client: "no.secret", secret: nil) == nil)
                #expect(try await Self.inject(herd, client: "wrong.secret", secret: wrong) == nil)
                let port = herd.clientPorts["Alford"]!
                for client in ["no.secret", "wrong.secret"] {
                    let query = "WHATSAT \(client) 10 1"
                    #expect(try await RawClient.exchange(port: port, query + "\n") == Wire.invalid(query))
                }
                let log = try await HostileClientTests.waitForLog(herd, "Alford", containing: "does not match")
                #expect(log.contains("claiming Parker refused: it did not offer the shared-secret handshake"), "\(log)")
                #expect(log.contains("Parker's proof does not match the peer secret"), "\(log)")
                #expect(!log.contains(try herd.machineSecret().text), "the secret is in the log")

                // The herd's own secret opens the link, and its update is stored.
                let answer = try await Self.inject(herd, client: "with.secret", secret: try herd.machineSecret())
                #expect(answer?.hasPrefix("EPOCH ") == true, "\(String(describing: answer))")
                try await eventually("the authenticated update to be stored") {
                    try await RawClient.exchange(port: port, "WHATSAT with.secret 10 1\n").hasPrefix("AT Parker ")
                }
            }
        }

        @Test func aSecondLinkClaimingALinkedNeighbourIsRefusedAndLogged() async throws {
            try await withProcessHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")]) { herd in
                try await herd.start(herd.names)
                _ = try await HostileClientTests.waitForLog(herd, "Alford", containing: "peer link from Parker opened")
                let answer = try await Self.inject(herd, client: "second.link", secret: try herd.machineSecret())
                #expect(answer == nil)
                let log = try await HostileClientTests.waitForLog(
                    herd, "Alford", containing: "Parker is linked already")
                #expect(log.contains("claiming Parker refused: Parker is linked already"))
                // The real link still carries updates both ways.
                let atLine = try await RawClient.exchange(
                    port: herd.clientPorts["Parker"]!, Wire.iamat("after.refusal") + "\n")
                try await eventually("Parker's update at Alford") {
                    try await RawClient.exchange(port: herd.clientPorts["Alford"]!, "WHATSAT after.refusal 10 1\n")
                        .hasPrefix(atLine)
                }
            }
        }

        @Test func whileTheSecretChangesServersWithTheOldOneAndTheNewOneAllLink() async throws {
            let old = PeerSecret.random().text
            let new = PeerSecret.random().text
            let keys =
                "peer_links: {secret_env: HERD_TEST_PEER_SECRET, previous_secret_env: HERD_TEST_PEER_SECRET_BEFORE, "
                + "redial_initial_ms: 50, redial_max_ms: 250}"
            // Mid-rotation: Alford still has the old secret only, Parker has the new one and accepts the old,
            // Hamilton has finished and knows only the new one.
            try await withProcessHerd(
                names: ["Alford", "Parker", "Hamilton"], links: [("Alford", "Parker"), ("Parker", "Hamilton")],
                extra: keys
            ) { herd in
                try await herd.start("Alford", environment: ["HERD_TEST_PEER_SECRET": old])
                try await herd.start(
                    "Parker", environment: ["HERD_TEST_PEER_SECRET": new, "HERD_TEST_PEER_SECRET_BEFORE": old])
                try await herd.start("Hamilton", environment: ["HERD_TEST_PEER_SECRET": new])
                let fromAlford = try await RawClient.exchange(
                    port: herd.clientPorts["Alford"]!, Wire.iamat("from.alford") + "\n")
                let fromHamilton = try await RawClient.exchange(
                    port: herd.clientPorts["Hamilton"]!, Wire.iamat("from.hamilton") + "\n")
                try await eventually("each update at the far end of the herd") {
                    let atHamilton = try await RawClient.exchange(
                        port: herd.clientPorts["Hamilton"]!, "WHATSAT from.alford 10 1\n")
                    let atAlford = try await RawClient.exchange(
                        port: herd.clientPorts["Alford"]!, "WHATSAT from.hamilton 10 1\n")
                    return atHamilton.hasPrefix(fromAlford) && atAlford.hasPrefix(fromHamilton)
                }
            }
        }

        @Test func aHerdAcrossHostsWithNoSecretDoesNotStartAndSaysWhichKeyToSet() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-auth-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let servers = """
                servers:
                  - {name: Alford, host: 192.0.2.10, client_port: 12000, peer_port: 12100}
                  - {name: Parker, host: 192.0.2.11, client_port: 12000, peer_port: 12100}
                links: [[Alford, Parker]]

                """
            let path = directory + "/herd.yaml"
            try servers.write(toFile: path, atomically: true, encoding: .utf8)
            for command in [["check", "--config", path], ["serve", "Alford", "--config", path]] {
                let result = try await Subprocess.runHerd(command)
                let output = result.stdout + result.stderr
                #expect(result.status != 0, "herd \(command[0]) started: \(output)")
                #expect(output.contains(path) && output.contains("peer_links.secret_file"), "\(output)")
                #expect(output.contains("authentication: none"), "\(output)")
            }
            // Saying so in so many words runs it unauthenticated.
            try (servers + "peer_links: {authentication: none}\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            let unauthenticated = try await Subprocess.runHerd(["check", "--config", path])
            #expect(unauthenticated.status == 0, "\(unauthenticated.stdout) \(unauthenticated.stderr)")
            // A secret file that is too short is named with its key.
            try "short\n".write(toFile: directory + "/peer.secret", atomically: true, encoding: .utf8)
            try (servers + "peer_links: {secret_file: peer.secret}\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            let short = try await Subprocess.runHerd(["check", "--config", path])
            #expect(short.status != 0)
            #expect((short.stdout + short.stderr).contains("peer_links.secret_file"), "\(short.stderr)")
        }
    }
}
