import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 13 ("many hosts"): the five servers in five network namespaces joined by a bridge, each on its own
    /// address with its own `host`, linked over TCP with a peer secret; and issue 12's nemesis finding, a link
    /// reset on one side only, reopened after the heal.
    @Suite("A herd across hosts", .serialized)
    struct ManyHostsTests {
        private static func skipUnlessNamespaces() async throws {
            if let reason = await NetworkNamespaces.unavailableReason() {
                print("ManyHostsTests skipped: \(reason)")
                try Test.cancel("skipped, network namespaces unavailable: \(reason)")
            }
        }

        private static func ask(_ herd: NamespaceHerd, _ server: String, _ line: String) async throws -> String {
            let host = herd.host(of: server)
            let port = herd.clientPort
            return try await RawConnection.onThread {
                let connection = try RawConnection(host: host, port: port)
                try connection.write(line + "\n")
                connection.finishWriting()
                return String(decoding: try connection.readToEnd(), as: UTF8.self)
            }
        }

        private static func knows(_ herd: NamespaceHerd, _ server: String, _ client: String, _ atLine: String)
            async throws -> Bool
        {
            try await ask(herd, server, "WHATSAT \(client) 10 1").hasPrefix(atLine)
        }

        @Test func fiveHostsFloodAPartitionHoldsUpdatesBackAndTheHealConvergesThem() async throws {
            try await Self.skipUnlessNamespaces()
            try await withNamespaceHerd { herd in
                try await herd.start(herd.names)
                let first = try await Self.ask(herd, "Hamilton", Wire.iamat("across.hosts"))
                #expect(first.hasPrefix("AT Hamilton "), "\(first)")
                try await eventually("Welsh, three hops away, to know across.hosts", timeout: .seconds(30)) {
                    try await Self.knows(herd, "Welsh", "across.hosts", first)
                }
                // Hamilton's only link, cut with iptables in both namespaces.
                try await herd.cut("Hamilton", "Parker")
                let during = try await Self.ask(herd, "Hamilton", Wire.iamat("during.partition"))
                let otherSide = try await Self.ask(herd, "Welsh", Wire.iamat("other.side"))
                #expect(during.hasPrefix("AT Hamilton ") && otherSide.hasPrefix("AT Welsh "))
                let unknown = "WHATSAT during.partition 10 1"
                #expect(try await Self.ask(herd, "Parker", unknown) == Wire.invalid(unknown))
                try await herd.heal("Hamilton", "Parker")
                try await eventually("both sides' updates everywhere after the heal", timeout: .seconds(60)) {
                    for server in herd.names {
                        guard try await Self.knows(herd, server, "during.partition", during),
                            try await Self.knows(herd, server, "other.side", otherSide)
                        else { return false }
                    }
                    return true
                }
            }
        }

        @Test func aLinkResetOnOneSideOnlyIsOpenedAgainAfterTheHeal() async throws {
            try await Self.skipUnlessNamespaces()
            try await withNamespaceHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")]) { herd in
                try await herd.start(herd.names)
                let before = try await Self.ask(herd, "Alford", Wire.iamat("before.reset"))
                try await eventually("Parker to know before.reset", timeout: .seconds(30)) {
                    try await Self.knows(herd, "Parker", "before.reset", before)
                }
                // Alford's flood during the cut is answered with resets: its link to Parker is gone, while
                // Parker's end of it never hears of that.
                try await herd.cut("Alford", "Parker", .reset)
                _ = try await Self.ask(herd, "Alford", Wire.iamat("during.reset"))
                try await eventually("Alford to lose its link") {
                    let log = (try? String(contentsOfFile: herd.logPath("Alford"), encoding: .utf8)) ?? ""
                    return log.contains("peer link to Parker dropped") || log.contains("peer link to Parker failed")
                }
                try await herd.heal("Alford", "Parker")
                let after = try await Self.ask(herd, "Alford", Wire.iamat("after.reset"))
                try await eventually("Parker to know what Alford got after the heal", timeout: .seconds(20)) {
                    try await Self.knows(herd, "Parker", "after.reset", after)
                }
            }
        }
    }
}
