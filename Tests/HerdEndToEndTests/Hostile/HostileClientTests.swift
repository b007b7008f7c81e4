import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 12: what a hostile or unlucky client can do to a `herd serve` process, and what it cannot.
    @Suite("Hostile clients")
    struct HostileClientTests {
        static let quickRedial = "peer_links: {redial_initial_ms: 50, redial_max_ms: 250}"

        /// The current time plus `seconds`, as a client time.
        static func clientTime(secondsFromNow seconds: Int) -> String {
            String(Int(Date().timeIntervalSince1970) + seconds) + ".5"
        }

        @Test func aClientTimeFarAheadOfTheServersClockIsRefusedAndCannotWinOverLaterReports() async throws {
            try await withProcessHerd(names: ["Alford"], links: []) { herd in
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                let year9999 = Wire.iamat("taken.over", time: "253402300799")
                #expect(try await RawClient.exchange(port: port, year9999 + "\n") == Wire.invalid(year9999))
                let tenMinutesAhead = Wire.iamat("taken.over", time: Self.clientTime(secondsFromNow: 600))
                #expect(
                    try await RawClient.exchange(port: port, tenMinutesAhead + "\n") == Wire.invalid(tenMinutesAhead))

                // A real report afterwards is the one stored; a time a minute ahead (clock drift) is still fine.
                let real = try await RawClient.exchange(port: port, Wire.iamat("taken.over") + "\n")
                #expect(real.hasPrefix("AT Alford "))
                let places = try await RawClient.exchange(port: port, "WHATSAT taken.over 10 1\n")
                #expect(places.hasPrefix(real), "got \(places.prefix(200))")
                let drift = Wire.iamat("drifting", time: Self.clientTime(secondsFromNow: 60))
                #expect(try await RawClient.exchange(port: port, drift + "\n").hasPrefix("AT Alford "))
            }
        }

        @Test func aFractionOfMoreThanThirtyDigitsIsRefused() async throws {
            try await withProcessHerd(names: ["Alford"], links: []) { herd in
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                let thirty = Wire.iamat("fine.digits", time: "1621464827." + String(repeating: "1", count: 30))
                #expect(try await RawClient.exchange(port: port, thirty + "\n").hasPrefix("AT Alford "))
                let long = Wire.iamat("long.digits", time: "1621464827." + String(repeating: "1", count: 31))
                #expect(try await RawClient.exchange(port: port, long + "\n") == Wire.invalid(long))
            }
        }

        @Test func longClientIDsAndNewClientsBeyondTheStoreLimitAreRefusedWhileKnownClientsStillUpdate() async throws {
            let extra = Self.quickRedial + "\nlimits: {max_clients: 2, max_client_id_bytes: 16}"
            try await withProcessHerd(names: ["Alford"], links: [], extra: extra) { herd in
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                let long = Wire.iamat(String(repeating: "x", count: 17))
                #expect(try await RawClient.exchange(port: port, long + "\n") == Wire.invalid(long))
                let longQuery = "WHATSAT \(String(repeating: "x", count: 17)) 10 1"
                #expect(try await RawClient.exchange(port: port, longQuery + "\n") == Wire.invalid(longQuery))

                for client in ["first.client", "second.client"] {
                    #expect(try await RawClient.exchange(port: port, Wire.iamat(client) + "\n").hasPrefix("AT Alford "))
                }
                let third = Wire.iamat("third.client")
                #expect(try await RawClient.exchange(port: port, third + "\n") == Wire.invalid(third))
                let newer = Wire.iamat("first.client", time: "1621464900")
                let updated = try await RawClient.exchange(port: port, newer + "\n")
                #expect(updated.hasPrefix("AT Alford "))
                #expect(try await RawClient.exchange(port: port, "WHATSAT first.client 10 1\n").hasPrefix(updated))
            }
        }

        @Test func aClientThatNeverFinishesALineIsClosedWhileOneThatSendsLinesSlowlyIsServed() async throws {
            let extra = Self.quickRedial + "\nlimits: {line_timeout_seconds: 1}"
            try await withProcessHerd(names: ["Alford"], links: [], extra: extra) { herd in
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                // Slowloris: one byte every 100 ms, never a line feed, for up to 5 s.
                let closedEarly = try await RawConnection.onThread {
                    let connection = try RawConnection(port: port)
                    for byte in Array(String(repeating: "IAMAT slow.loris", count: 4).utf8) {
                        do { try connection.write(String(UnicodeScalar(byte))) } catch { return true }
                        var poller = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
                        if poll(&poller, 1, 100) > 0 { return try connection.readToEnd().isEmpty }
                    }
                    return false
                }
                #expect(closedEarly, "a connection that sent one byte every 100 ms for 5 s was still open")

                // Complete lines a little slower than the line timeout are each answered.
                let answered = try await RawConnection.onThread {
                    let connection = try RawConnection(port: port)
                    var replies = 0
                    for index in 0..<3 {
                        try connection.write(Wire.iamat("slow.but.fine.\(index)") + "\n")
                        if try connection.readLine()?.hasPrefix("AT Alford ") == true { replies += 1 }
                        usleep(1_300_000)
                    }
                    return replies
                }
                #expect(answered == 3)
                let log = try await Self.waitForLog(herd, "Alford", containing: "sent no complete line within")
                #expect(log.contains("sent no complete line within 1.0 seconds; closing"))
            }
        }

        @Test func controlBytesFromAClientReachTheLogEscaped() async throws {
            try await withProcessHerd(names: ["Alford"], links: []) { herd in
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                // ESC, NUL, BEL, DEL and a byte above ASCII inside the client id; a CR in a separate line.
                let id: [UInt8] = Array("evil".utf8) + [0x1B, 0x5B, 0x33, 0x31, 0x6D, 0x00, 0x07, 0x7F, 0xC3, 0xA9]
                let line = Array("IAMAT ".utf8) + id + Array(" \(Wire.location) \(Wire.time)\n".utf8)
                let reply = try await RawClient.exchange(port: port, bytes: line + Array("FAKE\rLOG\n".utf8))
                #expect(reply.starts(with: Array("AT Alford ".utf8)))
                let log = try await Self.waitForLog(herd, "Alford", containing: "FAKE")
                #expect(log.contains("evil\\x1B[31m\\x00\\x07\\x7F\\xC3\\xA9"))
                #expect(log.contains("FAKE\\x0DLOG"))
                let raw = try Data(contentsOf: URL(fileURLWithPath: herd.logPath("Alford")))
                let stray = raw.filter { ($0 < 0x20 && $0 != 0x0A) || $0 >= 0x7F }
                #expect(stray.isEmpty, "the log holds \(stray.count) raw control or non-ASCII bytes")
            }
        }

        /// Reads `name`'s log until it contains `text` (the server writes it out every quarter second).
        static func waitForLog(_ herd: ProcessHerd, _ name: String, containing text: String) async throws -> String {
            var log = ""
            try await eventually("\(name)'s log to mention \(text)") {
                let data = (try? Data(contentsOf: URL(fileURLWithPath: herd.logPath(name)))) ?? Data()
                log = String(decoding: data, as: UTF8.self)
                return log.contains(text)
            }
            return log
        }
    }
}
