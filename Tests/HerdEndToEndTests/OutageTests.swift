import HerdTesting
import Testing

/// The reference topology as PROTOCOL.md section 6 draws it, written out here rather than taken from the code.
private enum ReferenceTopology {
    static let servers = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]
    static let links: [(String, String)] = [
        ("Alford", "Parker"), ("Alford", "Welsh"),
        ("Bolden", "Parker"), ("Bolden", "Welsh"),
        ("Hamilton", "Parker"),
    ]

    static func neighbours(of server: String) -> Set<String> {
        Set(links.compactMap { $0.0 == server ? $0.1 : $0.1 == server ? $0.0 : nil })
    }

    /// The servers of `alive` reachable from `start` over links between servers of `alive` (breadth first).
    static func reachable(from start: String, within alive: Set<String>) -> Set<String> {
        var seen: Set<String> = [start]
        var queue = [start]
        while !queue.isEmpty {
            let server = queue.removeFirst()
            for next in neighbours(of: server) where alive.contains(next) && !seen.contains(next) {
                seen.insert(next)
                queue.append(next)
            }
        }
        return seen
    }
}

/// Two servers of the five, stopped together.
struct StoppedPair: Sendable, CustomTestStringConvertible {
    let first: String
    let second: String

    var testDescription: String { "\(first) and \(second) stopped" }

    static var all: [StoppedPair] {
        let names = ReferenceTopology.servers
        return names.indices.flatMap { i in
            names.indices.filter { $0 > i }.map { StoppedPair(first: names[i], second: names[$0]) }
        }
    }
}

extension HerdEndToEndTests {
    @Suite("Servers going down and coming back")
    struct OutageTests {
        @Test func theTopologyIsThe2016Herd() {
            #expect(StoppedPair.all.count == 10)
            #expect(
                ReferenceTopology.reachable(from: "Alford", within: ["Alford", "Bolden", "Hamilton", "Parker"]).count
                    == 4)
            #expect(
                ReferenceTopology.reachable(from: "Alford", within: ["Alford", "Bolden", "Hamilton"]) == ["Alford"])
        }

        /// PROTOCOL.md section 6: stopping Welsh leaves the herd connected; stopping Parker too cuts Alford off;
        /// once both are back, the herd talks to them as usual.
        @Test func the2016Scenario() async throws {
            try await withTestHerd { herd in
                let everyone = herd.names
                let first = try await herd.report("client.one", at: "Alford", time: "1621464827.1")
                for server in everyone { try await herd.awaitLocation(of: "client.one", atLine: first, at: server) }

                await herd.stop("Welsh")
                try await herd.waitForLinks()
                let second = try await herd.report("client.two", at: "Alford", time: "1621464827.2")
                for server in ["Alford", "Bolden", "Hamilton", "Parker"] {
                    try await herd.awaitLocation(of: "client.two", atLine: second, at: server)
                }

                await herd.stop("Parker")
                try await herd.waitForLinks()
                let third = try await herd.report("client.three", at: "Alford", time: "1621464827.3")
                try await herd.awaitLocation(of: "client.three", atLine: third, at: "Alford")
                // Alford has no running neighbour. Once the herd is quiet nothing is on its way anywhere, so an
                // update that went where no link leads would have arrived by now.
                try await herd.waitUntilQuiet()
                for server in ["Bolden", "Hamilton"] {
                    try await herd.expectUnknown("client.three", at: server)
                    try await herd.awaitLocation(of: "client.two", atLine: second, at: server)
                }

                try await herd.start("Welsh")
                try await herd.start("Parker")
                try await herd.waitForLinks()
                let fourth = try await herd.report("client.four", at: "Alford", time: "1621464827.4")
                for server in everyone {
                    let reply = try await herd.awaitLocation(of: "client.four", atLine: fourth, at: server)
                    try Wire.expectPlacesReply(reply, atLine: fourth, bound: 5)
                }
            }
        }

        /// With any two servers down, an update reaches exactly the survivors still connected to where it
        /// was reported, and no other survivor.
        @Test(arguments: StoppedPair.all)
        func withTwoServersStoppedUpdatesReachExactlyTheConnectedSurvivors(_ pair: StoppedPair) async throws {
            try await withTestHerd { herd in
                await herd.stop(pair.first)
                await herd.stop(pair.second)
                try await herd.waitForLinks()
                let survivors = Set(ReferenceTopology.servers).subtracting([pair.first, pair.second])

                var lines: [String: String] = [:]
                for origin in survivors.sorted() {
                    lines[origin] = try await herd.report("from.\(origin)", at: origin)
                }
                var unreachable: [(client: String, server: String)] = []
                for origin in survivors.sorted() {
                    let reached = ReferenceTopology.reachable(from: origin, within: survivors)
                    for server in survivors.sorted() {
                        if reached.contains(server) {
                            try await herd.awaitLocation(of: "from.\(origin)", atLine: lines[origin]!, at: server)
                        } else {
                            unreachable.append(("from.\(origin)", server))
                        }
                    }
                }
                guard !unreachable.isEmpty else { return }
                // Every reachable survivor has every update; once the herd is quiet, a stray one would be there.
                try await herd.waitUntilQuiet()
                for (client, server) in unreachable {
                    try await herd.expectUnknown(client, at: server)
                }
            }
        }
    }
}
