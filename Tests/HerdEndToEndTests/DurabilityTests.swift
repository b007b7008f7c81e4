import Foundation
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
        /// Alford and Parker, linked, each its own `herd serve` process, journals in a temporary data_dir.
        private struct TwoServers {
            let directory: String
            let path: String
            let alford: Int
            let parker: Int

            init() throws {
                directory =
                    FileManager.default.temporaryDirectory
                    .appendingPathComponent("herd-e2e-durable-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                path = directory + "/herd.yaml"
                let ports = try RawClient.freePorts(4)
                (alford, parker) = (ports[0], ports[1])
                let yaml = """
                    servers:
                      - {name: Alford, host: 127.0.0.1, client_port: \(ports[0]), peer_port: \(ports[2])}
                      - {name: Parker, host: 127.0.0.1, client_port: \(ports[1]), peer_port: \(ports[3])}
                    links: [[Alford, Parker]]
                    log_dir: logs
                    data_dir: data
                    peer_links: {redial_initial_ms: 50, redial_max_ms: 250}

                    """
                try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            }

            func serve(_ name: String, port: Int) async throws -> Subprocess {
                let server = try Subprocess(try Subprocess.herdExecutable(), ["serve", name, "--config", path])
                for _ in 0..<500 {
                    if let reply = try? await RawClient.exchange(port: port, "WHATSAT nobody 1 1\n"), !reply.isEmpty {
                        return server
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                server.forceKill()
                throw RawClient.Failure(description: "\(name) never answered: \(server.standardError.text)")
            }
        }

        @Test func aKilledServerKeepsWhatItAcknowledgedAndCatchesUp() async throws {
            let herd = try TwoServers()
            defer { try? FileManager.default.removeItem(atPath: herd.directory) }
            let parker = try await herd.serve("Parker", port: herd.parker)
            defer { parker.forceKill() }
            var alford = try await herd.serve("Alford", port: herd.alford)
            defer { alford.forceKill() }

            // A client streams pipelined reports to Alford and notes every reply; Alford is killed mid-stream.
            let acknowledged = Mutex<[String]>([])
            let port = herd.alford
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
            for _ in 0..<1_000 where acknowledged.withLock({ $0.count }) < 400 {
                try await Task.sleep(for: .milliseconds(10))
            }
            alford.forceKill()
            try await streamed
            let kept = acknowledged.withLock { $0 }
            #expect(kept.count >= 400, "only \(kept.count) reports were answered before the kill")

            // While Alford is down, Parker learns a newer location of an acknowledged client, and a new one.
            let moved = try #require(kept.first?.split(separator: " ")[3]).description
            let newer = try await RawClient.exchange(
                port: herd.parker, Wire.iamat(moved, location: "+10.000000-020.000000", time: "1621465000") + "\n")
            let fresh = try await RawClient.exchange(port: herd.parker, Wire.iamat("parker.only") + "\n")

            alford = try await herd.serve("Alford", port: herd.alford)
            var expected = kept.map { line in (client: String(line.split(separator: " ")[3]), atLine: line) }
            expected[0].atLine = newer.trimmingCharacters(in: .newlines)
            expected.append(("parker.only", fresh.trimmingCharacters(in: .newlines)))
            try await awaitLocations(expected, port: herd.alford)
        }

        /// Asks with pipelined WHATSATs until every client answers with its expected AT line (bounded).
        private func awaitLocations(_ expected: [(client: String, atLine: String)], port: Int) async throws {
            var missing = expected
            for _ in 0..<250 {
                let reply = try await RawClient.exchange(
                    port: port, missing.map { "WHATSAT \($0.client) 10 1\n" }.joined())
                let answers = Wire.splitReplies(reply)
                missing =
                    zip(missing, answers).filter { !$1.hasPrefix($0.atLine + "\n") }.map(\.0)
                    + missing.dropFirst(answers.count)
                if missing.isEmpty { return }
                try await Task.sleep(for: .milliseconds(40))
            }
            Issue.record(
                "\(missing.count) acknowledged clients missing after the restart, e.g. \(missing.prefix(3).map(\.atLine))"
            )
        }
    }
}
