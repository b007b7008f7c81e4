import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 5: one misbehaving client or peer cannot take the server's memory or stall everyone else.
    @Suite("Limits")
    struct LimitsTests {
        @Test func aTenMebibyteLineIsRefusedAndOthersAreStillServed() async throws {
            try await withTestHerd(starting: ["Alford"]) { herd in
                let port = try await herd.clientPort("Alford")
                let huge = "IAMAT " + String(repeating: "x", count: 10 << 20)
                async let refused = RawClient.exchange(port: port, huge + "\n" + Wire.iamat("after.huge") + "\n")
                let other = try await herd.report("beside.huge", at: "Alford")
                #expect(try await refused == "? " + huge.prefix(256) + "\n")
                try await herd.awaitLocation(of: "beside.huge", atLine: other, at: "Alford")
                try await herd.expectUnknown("after.huge", at: "Alford")
            }
        }

        @Test func connectionsPastTheLimitAreClosedUntilOneIsFree() async throws {
            let limit: @Sendable (inout HerdConfig) -> Void = { $0.limits.maximumClientConnections = 3 }
            try await withTestHerd(starting: ["Alford"], configure: limit) { herd in
                let port = try await herd.clientPort("Alford")
                // Three clients hold their connections open, each after one answered report.
                let held = try await RawConnection.onThread {
                    try (0..<3).map { index in
                        let connection = try RawConnection(port: port)
                        try connection.write(Wire.iamat("held.\(index)") + "\n")
                        guard try connection.readLine()?.hasPrefix("AT Alford ") == true else {
                            throw RawClient.Failure(description: "held.\(index) was not answered")
                        }
                        return connection
                    }
                }
                #expect(try await herd.send(Wire.iamat("one.too.many") + "\n", to: "Alford") == "")
                try await herd.waitForLogLine("Alford", containing: ["3 client connections already open"])

                // Freeing a slot lets the next client in.
                try await RawConnection.onThread { try held[0].write("") }
                shutdown(held[0].fd, Int32(SHUT_RDWR))
                var reply = ""
                try await eventually("a slot to free up") {
                    reply = try await herd.send(Wire.iamat("after.free") + "\n", to: "Alford")
                    return reply.hasPrefix("AT ")
                }
                #expect(reply.hasPrefix("AT Alford "), "got \(reply.debugDescription)")
                // The two other held connections are still served.
                let stillServed = try await RawConnection.onThread {
                    try held[1].write(Wire.iamat("held.again") + "\n")
                    return try held[1].readLine()
                }
                #expect(stillServed?.hasPrefix("AT Alford ") == true)
                try await herd.expectUnknown("one.too.many", at: "Alford")
            }
        }

        @Test func aClientThatNeverReadsIsThrottledAndOthersAreServed() async throws {
            try await withTestHerd(starting: ["Alford"]) { herd in
                let port = try await herd.clientPort("Alford")
                let chunk = Array((0..<10_000).map { Wire.iamat("greedy.\($0)") + "\n" }.joined().utf8)
                let limit = 256 << 20
                // Writes until the server stops reading (the socket stays full for a second), or `limit` bytes.
                let (greedy, sent) = try await RawConnection.onThread {
                    let connection = try RawConnection(port: port)
                    var sent = 0
                    var fullSince: Date?
                    while sent < limit {
                        let count = try connection.writeWithoutBlocking(Array(chunk[(sent % chunk.count)...]))
                        sent += count
                        if count > 0 {
                            fullSince = nil
                        } else if let since = fullSince {
                            if Date().timeIntervalSince(since) > 1 { break }
                            // The socket is full: wait for it to drain (or for the second to pass).
                            var poller = pollfd(fd: connection.fd, events: Int16(POLLOUT), revents: 0)
                            _ = poll(&poller, 1, 10)
                        } else {
                            fullSince = Date()
                        }
                    }
                    return (connection, sent)
                }
                #expect(sent < limit, "the server read \(sent) bytes without its replies being read")
                let other = try await herd.report("polite.client", at: "Alford")
                try await herd.awaitLocation(of: "polite.client", atLine: other, at: "Alford")
                // The greedy client's replies were held, not dropped: the first one is there to read.
                let first = try await RawConnection.onThread { try greedy.readLine() }
                #expect(first?.hasPrefix("AT Alford ") == true && first?.contains(" greedy.0 ") == true)
            }
        }

        @Test func aPeerThatNeverReadsDoesNotStallClientsOrOtherLinks() async throws {
            let quickTimeout: @Sendable (inout HerdConfig) -> Void = { $0.limits.floodTimeoutMilliseconds = 200 }
            try await withTestHerd(starting: ["Alford", "Bolden", "Hamilton", "Welsh"], configure: quickTimeout) {
                herd in
                let stuck = try StandInPeer(behaviour: .stopReadingAfterHello)
                defer { stuck.stop() }
                let secret = herd.peerSecret!
                stuck.authenticate(.init(name: "Parker") { secret })
                herd.peerDirectory.record(Endpoint(host: "127.0.0.1", port: stuck.port), for: "Parker")
                try await eventually("Alford to dial the stand-in for Parker") { stuck.connectionCount > 0 }

                // Enough updates to fill the socket to the stand-in many times over.
                var last = ""
                for batch in 0..<20 {
                    let lines = (0..<1_000).map { Wire.iamat("batch\(batch).client\($0)", time: "1621464900") }
                    let reply = try await herd.send(lines.joined(separator: "\n") + "\n", to: "Alford")
                    let replies = reply.split(separator: "\n")
                    #expect(replies.count == 1_000)
                    last = String(replies.last ?? "")
                }
                #expect(last.hasPrefix("AT Alford ") && last.contains(" batch19.client999 "))
                for server in ["Welsh", "Bolden"] {
                    try await herd.awaitLocation(of: "batch19.client999", atLine: last, at: server)
                }
                try await herd.waitForLogLine("Alford", containing: ["peer Parker has not acknowledged"])
            }
        }
    }
}
