import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 12: what a misbehaving neighbour, or the herd's own timing, can do to `herd serve` processes.
    @Suite("Hostile peers and convergence")
    struct HostilePeerTests {
        @Test func aPeersATLineIsCheckedAsStrictlyAsTheServersOwnAndTheRestIsDroppedWithAWarning() async throws {
            try await withProcessHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")]) { herd in
                try await herd.start("Alford")
                let now = Int(Date().timeIntervalSince1970)
                let lines = [
                    "AT Nobody +0.100000000 from.nowhere \(Wire.location) \(Wire.time)",
                    "AT Parker 0.1 unsigned.skew \(Wire.location) \(Wire.time)",
                    "AT Parker +0.100000000 from.the.future \(Wire.location) \(now + 3600)",
                    "AT Parker +0.100000000 \(String(repeating: "x", count: 257)) \(Wire.location) \(Wire.time)",
                    "AT Parker +0.100000000 well.formed \(Wire.location) \(Wire.time)",
                ]
                // Plays Parker by hand: the hello, then the lines; the ACK says Alford has processed them.
                let acknowledged = try await RawConnection.onThread {
                    let link = try RawConnection(port: herd.peerPorts["Alford"]!)
                    let answer = try link.sayHello(as: "Parker", to: "Alford", secret: herd.machineSecret())
                    guard answer?.hasPrefix("EPOCH ") == true else { return "no EPOCH" }
                    try link.write(lines.map { $0 + "\n" }.joined())
                    return try link.readLine() ?? "closed"
                }
                #expect(acknowledged.hasPrefix("ACK "), "got \(acknowledged)")
                let port = herd.clientPorts["Alford"]!
                let known = try await RawClient.exchange(port: port, "WHATSAT well.formed 10 1\n")
                #expect(known.hasPrefix(lines[4] + "\n"))
                for client in ["from.nowhere", "unsigned.skew", "from.the.future"] {
                    let query = "WHATSAT \(client) 10 1"
                    #expect(try await RawClient.exchange(port: port, query + "\n") == Wire.invalid(query))
                }
                let log = try await HostileClientTests.waitForLog(herd, "Alford", containing: "origin Nobody")
                let warnings = log.split(separator: "\n").filter {
                    $0.contains("warning") && $0.contains("dropped a line")
                }
                #expect(warnings.count == 4, "warnings: \(warnings)")
            }
        }

        @Test func twoReportsOfOneClientWithTheSameTimeEndTheSameAtEveryServer() async throws {
            try await withProcessHerd { herd in
                try await herd.start(herd.names)
                for attempt in 0..<5 {
                    let client = "tie.\(attempt)"
                    let time = "1621464827.\(attempt)"
                    async let atAlford = RawClient.exchange(
                        port: herd.clientPorts["Alford"]!, Wire.iamat(client, location: "+10+010", time: time) + "\n")
                    async let atHamilton = RawClient.exchange(
                        port: herd.clientPorts["Hamilton"]!, Wire.iamat(client, location: "+20+020", time: time) + "\n")
                    let replies = try await [atAlford, atHamilton]
                    #expect(replies.allSatisfy { $0.hasPrefix("AT ") }, "\(replies)")
                    var firstLines: [String: Substring] = [:]
                    do {
                        try await eventually("every server to hold the same record of \(client)") {
                            for name in herd.names {
                                let reply = try await RawClient.exchange(
                                    port: herd.clientPorts[name]!, "WHATSAT \(client) 10 1\n")
                                firstLines[name] = reply.split(separator: "\n").first
                            }
                            return Set(firstLines.values).count == 1
                                && firstLines.values.first?.hasPrefix("AT ") == true
                        }
                    } catch {
                        Issue.record("\(client) diverged: \(firstLines)")
                        throw error
                    }
                }
            }
        }

        @Test func aServerThatStartsAfterItsNeighbourIsSentItsStoreAtOnceNotAfterTheRedialBackoff() async throws {
            // Parker's next dial to Hamilton would come a minute after its first failed one.
            let slowRedial = "peer_links: {redial_initial_ms: 60000, redial_max_ms: 120000}"
            try await withProcessHerd(
                names: ["Hamilton", "Parker"], links: [("Hamilton", "Parker")], extra: slowRedial
            ) {
                herd in
                try await herd.start("Parker")
                let port = herd.clientPorts["Parker"]!
                let reply = try await RawClient.exchange(port: port, Wire.iamat("known.before") + "\n")
                let atLine = try #require(reply.split(separator: "\n").first.map(String.init))
                _ = try await HostileClientTests.waitForLog(herd, "Parker", containing: "Hamilton")
                try await herd.start("Hamilton")
                var answer = ""
                do {
                    try await eventually("Hamilton to be sent Parker's store", timeout: .seconds(20)) {
                        answer = try await RawClient.exchange(
                            port: herd.clientPorts["Hamilton"]!, "WHATSAT known.before 10 1\n")
                        return answer.hasPrefix(atLine)
                    }
                } catch {
                    Issue.record("Hamilton still answers \(answer.prefix(100).debugDescription)")
                }
            }
        }

        @Test func aNeighbourThatAcceptsAndThenRefusesTheLinkIsRedialledWithGrowingBackoff() async throws {
            // Parker's stand-in takes each connection and closes it at the hello, as a misconfigured neighbour
            // does. Hamilton's dials to it succeed but no link completes its handshake, so the backoff must
            // grow: with steps of at least 0.2, 0.4, 0.8, 1.6 and 3.2 s, four seconds after the first dial
            // there can have been at most five. (Reset on every successful dial, it was one every 0.2 s.)
            let parker = try StandInPeer(behaviour: .refuseEveryHello)
            defer { parker.stop() }
            try await withProcessHerd(
                names: ["Hamilton", "Parker"], links: [("Hamilton", "Parker")],
                extra: "peer_links: {redial_initial_ms: 200, redial_max_ms: 60000}", peerPorts: ["Parker": parker.port]
            ) { herd in
                try await herd.start("Hamilton")
                try await eventually("Hamilton's first dial") { parker.connectionCount > 0 }
                try await Task.sleep(for: .seconds(4))
                let dials = parker.connectionCount
                #expect(dials >= 2, "Hamilton did not dial again after a refusal")
                #expect(dials <= 5, "Hamilton dialled \(dials) times in 4 s: the backoff was reset by a refused link")
            }
        }

        @Test func sigtermDeliversTheRepliesAlreadyHeldBeforeItCloses() async throws {
            let parker = try StandInPeer(behaviour: .neverAcknowledge)
            defer { parker.stop() }
            try await withProcessHerd(
                names: ["Alford", "Parker"], links: [("Alford", "Parker")],
                extra: "limits: {flood_timeout_ms: 3000}", peerPorts: ["Parker": parker.port]
            ) { herd in
                parker.authenticate(.init(name: "Parker") { try herd.machineSecret() })
                try await herd.start("Alford")
                try await eventually("Alford to link to Parker") {
                    parker.hellos.contains { $0.hasPrefix("HELLO Alford ") } && parker.connectionCount > 0
                }
                let connection = try RawConnection(port: herd.clientPorts["Alford"]!)
                try await RawConnection.onThread { try connection.write(Wire.iamat("held.at.stop") + "\n") }
                // The update went to Parker, so the reply now waits for an ACK that never comes.
                try await eventually("the flood to reach Parker") {
                    parker.lines.contains { $0.contains("held.at.stop") }
                }
                let status = await herd.stop("Alford")
                let rest = try await RawConnection.onThread { try connection.readToEnd() }
                let text = String(decoding: rest, as: UTF8.self)
                #expect(text.hasPrefix("AT Alford "), "after SIGTERM the client got \(text.debugDescription)")
                #expect(text.hasSuffix(" held.at.stop \(Wire.location) \(Wire.time)\n"))
                #expect(status == 0)
            }
        }

        @Test func sigtermAnswersEveryLineTheServerReadBeforeItCloses() async throws {
            try await withProcessHerd(names: ["Alford"], links: []) { herd in
                try await herd.start("Alford")
                let connection = try RawConnection(port: herd.clientPorts["Alford"]!)
                let payload = Array((0..<50_000).map { Wire.iamat("pipelined.\($0)") + "\n" }.joined().utf8)
                // Writes everything while the replies are read on another thread; the write ends when the
                // server stops reading.
                let fd = connection.fd
                Thread {
                    var sent = 0
                    while sent < payload.count {
                        let count = payload[sent...].withUnsafeBytes {
                            send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                        }
                        if count <= 0 { return }
                        sent += count
                    }
                }.start()
                let first = try await RawConnection.onThread { try connection.readLine() }
                #expect(first?.hasPrefix("AT Alford ") == true)
                async let rest = RawConnection.onThread { try connection.readToEnd() }
                let status = await herd.stop("Alford")
                let replies = 1 + String(decoding: try await rest, as: UTF8.self).split(separator: "\n").count
                let log = try String(contentsOfFile: herd.logPath("Alford"), encoding: .utf8)
                let read = log.split(separator: "\n").filter { $0.contains("< IAMAT pipelined.") }.count
                #expect(status == 0)
                #expect(read > 0 && replies == read, "the server read \(read) lines and answered \(replies)")
            }
        }
    }
}
