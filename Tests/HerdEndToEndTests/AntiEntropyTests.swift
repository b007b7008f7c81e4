import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 5: after a partition heals, every server holds the newest record of every client, whichever
    /// side of the cut it was reported on (Docs/anti-entropy.md).
    @Suite("Anti-entropy after partitions")
    struct AntiEntropyTests {
        /// Stopping Parker and Welsh splits the 2016 herd into Alford, Bolden and Hamilton alone. Each side
        /// learns its own clients and its own version of a shared one; once Parker and Welsh are back, every
        /// server converges to the newest version of each.
        @Test func aHealedPartitionConvergesToTheNewestRecords() async throws {
            try await withTestHerd { herd in
                let before = try await herd.report("shared.client", at: "Hamilton", time: "1621464800")
                for server in herd.names {
                    try await herd.awaitLocation(of: "shared.client", atLine: before, at: server)
                }

                await herd.stop("Parker")
                await herd.stop("Welsh")
                try await herd.waitForLinks()
                var newest: [(client: String, atLine: String)] = []
                for (server, time) in [("Alford", "1621464801"), ("Hamilton", "1621464802")] {
                    _ = try await herd.report("shared.client", at: server, time: time)
                }
                newest.append(
                    ("shared.client", try await herd.report("shared.client", at: "Bolden", time: "1621464803")))
                for server in ["Alford", "Bolden", "Hamilton"] {
                    let client = "only.\(server.lowercased())"
                    newest.append((client, try await herd.report(client, at: server, time: "1621464810")))
                }
                // An older report arriving after the newer one must not win anywhere.
                _ = try await herd.report("shared.client", at: "Alford", time: "1621464799")
                try await herd.expectUnknown("only.bolden", at: "Alford")

                try await herd.start("Parker")
                try await herd.start("Welsh")
                for server in herd.names {
                    try await herd.awaitLocations(newest, at: server, timeout: .seconds(20))
                }
            }
        }

        /// A link that comes back sends only what the other side has not acknowledged: with the neighbour's
        /// store kept on disk, a restart of that neighbour costs no resend of what it already held.
        @Test func aRestartedNeighbourIsNotSentWhatItAlreadyHolds() async throws {
            try await withTestHerd { herd in
                var updates: [(client: String, atLine: String)] = []
                for index in 0..<20 {
                    let client = "resume.\(index)"
                    updates.append((client, try await herd.report(client, at: "Alford", time: "1621464820.\(index)")))
                }
                try await herd.awaitLocations(updates, at: "Welsh")

                await herd.stop("Welsh")
                let late = try await herd.report("resume.late", at: "Alford", time: "1621464830")
                try await herd.start("Welsh")
                try await herd.awaitLocation(of: "resume.late", atLine: late, at: "Welsh", timeout: .seconds(20))
                try await herd.awaitLocations(updates, at: "Welsh")
                for update in updates {
                    #expect(
                        try await herd.timesReceived(update.atLine, by: "Welsh") <= 2, "\(update.client) sent again")
                }
                #expect(try await herd.timesReceived(late, by: "Welsh") >= 1)
            }
        }
    }
}
