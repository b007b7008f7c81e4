import HerdTesting
import Testing

extension HerdEndToEndTests {
    @Suite("Pipelining")
    struct PipeliningTests {
        @Test func twoHundredIAMATsInOneWriteGetTwoHundredRepliesInOrder() async throws {
            try await withTestHerd { herd in
                let clients = (0..<200).map { "pipelined.\($0).example" }
                let times = (0..<200).map { "1621464827.\(String(1000 + $0))" }
                let input = zip(clients, times).map { Wire.iamat($0, time: $1) + "\n" }.joined()
                let reply = try await herd.send(input, to: "Parker")
                let lines = reply.split(separator: "\n", omittingEmptySubsequences: false)
                try #require(lines.count == 201, "expected 200 lines, got \(lines.count - 1)")
                #expect(lines.last == "")
                var atLines: [String] = []
                for index in 0..<200 {
                    atLines.append(
                        try Wire.expectATReply(
                            String(lines[index]) + "\n", server: "Parker", client: clients[index], time: times[index]))
                }
                // They were stored and flooded too: Welsh, two links away, learns every one of them.
                try await herd.awaitLocations(Array(zip(clients, atLines)), at: "Welsh")
            }
        }

        @Test func pipelinedWHATSATsAreAnsweredInOrderEachEndingInABlankLine() async throws {
            try await withTestHerd(starting: ["Alford"]) { herd in
                let atLine = try await herd.report("pipelined.places", at: "Alford")
                let bounds = [1, 20, 3, 7, 2, 20, 5, 1, 4, 9]
                let input = bounds.map { "WHATSAT pipelined.places 10 \($0)\n" }.joined()
                let reply = try await herd.send(input, to: "Alford")
                var rest = Substring(reply)
                for bound in bounds {
                    let end = try #require(rest.firstRange(of: "\n\n"))
                    try Wire.expectPlacesReply(String(rest[..<end.upperBound]), atLine: atLine, bound: bound)
                    rest = rest[end.upperBound...]
                }
                #expect(rest.isEmpty)
            }
        }
    }
}
