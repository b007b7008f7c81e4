import HerdTesting
import Testing

extension HerdEndToEndTests {
    @Suite("Stale updates and the end of a flood")
    struct FloodTests {
        /// PROTOCOL.md section 2: a stale or duplicate IAMAT gets its own AT line but is neither stored nor flooded.
        @Test func staleAndDuplicateIAMATsAreAnsweredButChangeNothing() async throws {
            try await withTestHerd { herd in
                let current = try await herd.report("stale.client", at: "Alford", time: "1621464900.5")
                for server in herd.names {
                    try await herd.awaitLocation(of: "stale.client", atLine: current, at: server)
                }

                // Older, the same time written differently, and exactly the same time: all answered, none kept.
                let older = try await herd.report(
                    "stale.client", at: "Bolden", location: "+12-118", time: "1621464800.25")
                let sameTime = try await herd.report(
                    "stale.client", at: "Hamilton", location: "+27.5916+086.5640", time: "1621464900.500000000")
                let duplicate = try await herd.report("stale.client", at: "Welsh", time: "1621464900.5")
                let negative = try await herd.report("stale.client", at: "Parker", time: "-1621464900.5")

                // A later update from the same servers travels the same links after any stray flood of those.
                var controls: [String] = []
                for server in ["Bolden", "Hamilton", "Welsh", "Parker"] {
                    controls.append(try await herd.report("control.\(server)", at: server))
                }
                let controlClients = ["Bolden", "Hamilton", "Welsh", "Parker"].map { "control.\($0)" }
                for target in herd.names {
                    try await herd.awaitLocations(Array(zip(controlClients, controls)), at: target)
                }
                for server in herd.names {
                    let reply = try await herd.whatsat("stale.client", at: server)
                    #expect(reply.hasPrefix(current + "\n"), "\(server) changed: \(reply.prefix(120))")
                    try Wire.expectPlacesReply(reply, atLine: current, bound: 5)
                }

                // Once the herd is quiet nothing more travels: anything a stale report set off has arrived.
                try await herd.waitUntilQuiet()
                for server in herd.names {
                    for stale in [older, sameTime, duplicate, negative] {
                        #expect(
                            try await herd.timesReceived(stale, by: server) == 0,
                            "\(server) was sent the stale \(stale)")
                    }
                }
            }
        }

        /// PROTOCOL.md section 5: a server floods only what it stored, so on the cycle Alford-Parker-Bolden-Welsh
        /// every server gets an update at most once per neighbour, and the flood ends.
        @Test func aFloodEndsOnTheCyclicTopology() async throws {
            try await withTestHerd { herd in
                let single = try await herd.report("flood.single", at: "Alford")
                // A burst of updates from one connection, to make crossing floods on the cycle likely.
                let burstClients = (0..<30).map { "flood.burst.\($0)" }
                let burstReply = try await herd.send(
                    burstClients.map { Wire.iamat($0) + "\n" }.joined(), to: "Bolden")
                let burstLines = burstReply.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                try #require(burstLines.count == burstClients.count, "\(burstReply)")
                var updates: [(client: String, line: String, origin: String)] = [("flood.single", single, "Alford")]
                for (client, line) in zip(burstClients, burstLines) {
                    let atLine = try Wire.expectATReply(String(line) + "\n", server: "Bolden", client: client)
                    updates.append((client, atLine, "Bolden"))
                }
                for server in herd.names {
                    try await herd.awaitLocations(updates.map { ($0.client, $0.line) }, at: server)
                }

                // Every server stores every update; once the herd is quiet, no more updates are on their way.
                try await herd.waitUntilQuiet()
                var final: [String: Int] = [:]
                for server in herd.names { final[server] = try await herd.peerUpdates(receivedBy: server).count }

                for server in herd.names {
                    let neighbours = herd.config.neighbours(of: server).count
                    for update in updates {
                        let received = try await herd.timesReceived(update.line, by: server)
                        if server != update.origin {
                            #expect(received >= 1, "\(server) stores \(update.client) but never logged receiving it")
                        }
                        #expect(
                            received <= neighbours,
                            "\(server) received \(update.client) \(received) times with \(neighbours) neighbours")
                    }
                    // Nothing but these updates travelled between servers.
                    var expected = 0
                    for update in updates { expected += try await herd.timesReceived(update.line, by: server) }
                    #expect(final[server] == expected)
                }
            }
        }
    }
}
