import Foundation
import HerdTesting
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension HerdEndToEndTests {
    /// Issue 5: a server killed with SIGKILL and started again still answers for every client whose report it
    /// acknowledged, and learns what its neighbour stored while it was down.
    @Suite("Durable state")
    struct DurabilityTests {
        @Test func aKilledServerKeepsWhatItAcknowledgedAndCatchesUp() async throws {
            try await withProcessHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")]) { herd in
                try await herd.start(["Parker", "Alford"])
                let alfordPort = herd.clientPorts["Alford"]!
                let parkerPort = herd.clientPorts["Parker"]!

                // A client streams pipelined reports to Alford and notes every reply; Alford is killed mid-stream.
                let acknowledged = Mutex<[String]>([])
                let port = alfordPort
                async let streamed: Void = RawConnection.onThread {
                    let connection = try RawConnection(port: port)
                    for round in 0..<1_000 {
                        let lines = (0..<20).map { Wire.iamat("stream.\(round).\($0)", time: "1621464900") + "\n" }
                        guard (try? connection.write(lines.joined())) != nil else { return }
                        for _ in 0..<20 {
                            guard let reply = try? connection.readLine(), reply.hasPrefix("AT Alford ") else { return }
                            acknowledged.withLock { $0.append(reply) }
                        }
                    }
                }
                try await eventually("400 acknowledged reports") { acknowledged.withLock { $0.count } >= 400 }
                await herd.kill("Alford")
                try await streamed
                let kept = acknowledged.withLock { $0 }
                #expect(kept.count >= 400, "only \(kept.count) reports were answered before the kill")

                // While Alford is down, Parker learns a newer location of an acknowledged client, and a new one.
                let moved = try #require(kept.first?.split(separator: " ")[3]).description
                let newer = try await RawClient.exchange(
                    port: parkerPort, Wire.iamat(moved, location: "+10.000000-020.000000", time: "1621465000") + "\n")
                let fresh = try await RawClient.exchange(port: parkerPort, Wire.iamat("parker.only") + "\n")

                try await herd.start("Alford")
                var expected = kept.map { line in (client: String(line.split(separator: " ")[3]), atLine: line) }
                expected[0].atLine = newer.trimmingCharacters(in: .newlines)
                expected.append(("parker.only", fresh.trimmingCharacters(in: .newlines)))
                try await awaitLocations(expected, port: alfordPort)
            }
        }

        /// Asks with pipelined WHATSATs until every client answers with its expected AT line (bounded).
        private func awaitLocations(_ expected: [(client: String, atLine: String)], port: Int) async throws {
            var missing = expected
            do {
                try await eventually("every acknowledged client after the restart", poll: .milliseconds(40)) {
                    let reply = try await RawClient.exchange(
                        port: port, missing.map { "WHATSAT \($0.client) 10 1\n" }.joined())
                    let answers = Wire.splitReplies(reply)
                    missing =
                        zip(missing, answers).filter { !$1.hasPrefix($0.atLine + "\n") }.map(\.0)
                        + missing.dropFirst(answers.count)
                    return missing.isEmpty
                }
            } catch {
                Issue.record(
                    "\(missing.count) acknowledged clients missing after the restart, e.g. \(missing.prefix(3).map(\.atLine))"
                )
            }
        }
    }
}
