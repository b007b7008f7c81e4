import Foundation
import HerdKit
import HerdTesting
import Testing

/// The TCP herd's scenarios, again with `transport: {clients: tls, peers: tls}`: same replies, same flooding,
/// same recovery, with mutual TLS between the servers.
@Suite("The herd over TLS", .serialized)
struct TLSHerdTests {
    @Test func anIAMATAtOneServerGivesEveryServerTheSameFirstLine() async throws {
        try await withTestHerd(security: .tls(clients: true, peers: true)) { herd in
            let atLine = try await herd.report("kiwi.cs.ucla.edu", at: "Hamilton")
            for server in herd.names {
                let reply = try await herd.awaitLocation(of: "kiwi.cs.ucla.edu", atLine: atLine, at: server)
                try Wire.expectPlacesReply(reply, atLine: atLine, bound: 5)
            }
            // The links really are TLS and mutually authenticated: each side logged the other by name.
            try await herd.waitForLogLine("Parker", containing: ["peer link from Hamilton opened"])
        }
    }

    @Test func aStoppedServerIsReDialledAndRejoinsOverTLS() async throws {
        try await withTestHerd(security: .tls(clients: true, peers: true)) { herd in
            await herd.stop("Welsh")
            try await herd.waitForLinks()
            let first = try await herd.report("walker", at: "Alford", time: "1621464827.1")
            for server in ["Alford", "Bolden", "Hamilton", "Parker"] {
                try await herd.awaitLocation(of: "walker", atLine: first, at: server)
            }

            try await herd.start("Welsh")
            try await herd.waitForLinks()
            #expect(Set(try await herd.server("Welsh").connectedNeighbours()) == ["Alford", "Bolden"])
            #expect(Set(try await herd.server("Alford").connectedNeighbours()) == ["Parker", "Welsh"])
            let second = try await herd.report("walker", at: "Hamilton", time: "1621464827.2")
            for server in herd.names {
                try await herd.awaitLocation(of: "walker", atLine: second, at: server)
            }
        }
    }

    @Test func aTwentyPlaceWHATSATArrivesIntact() async throws {
        try await withTestHerd(security: .tls(clients: true, peers: true)) { herd in
            let atLine = try await herd.report("wanderer", at: "Alford")
            try await herd.awaitLocation(of: "wanderer", atLine: atLine, at: "Bolden")
            let reply = try await herd.whatsat("wanderer", at: "Bolden", radius: "50", bound: 20)
            try Wire.expectPlacesReply(reply, atLine: atLine, bound: 20)
            let json = Data(reply.utf8.dropFirst(atLine.utf8.count + 1))
            let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
            #expect((object?["results"] as? [Any])?.count == 20)
            // Bigger than one TLS record (16 KiB): it crossed several records and still arrived whole.
            #expect(reply.utf8.count > 16 * 1024, "reply is only \(reply.utf8.count) bytes")
        }
    }

    @Test func fiveHundredPipelinedCommandsAreAnsweredInOrder() async throws {
        try await withTestHerd(starting: ["Alford"], security: .tls(clients: true, peers: true)) { herd in
            var commands: [String] = []
            for index in 0..<500 {
                commands.append(index % 2 == 0 ? Wire.iamat("client\(index)") : "WHATSAT client\(index - 1) 10 1")
            }
            let reply = try await herd.send(commands.map { $0 + "\n" }.joined(), to: "Alford")
            // Cut the reply stream into replies: an AT line ends at its LF, a WHATSAT reply at its empty line.
            var rest = Substring(reply)
            var answered = 0
            for (index, _) in commands.enumerated() {
                let client = index % 2 == 0 ? "client\(index)" : "client\(index - 1)"
                let terminator = index % 2 == 0 ? "\n" : "\n\n"
                guard let end = rest.range(of: terminator) else {
                    Issue.record("reply \(index) missing; left: \(rest.prefix(200))")
                    break
                }
                let answer = rest[..<end.lowerBound]
                let atLine = answer.prefix { $0 != "\n" }
                #expect(atLine.hasPrefix("AT Alford "), "reply \(index): \(answer.prefix(100))")
                #expect(atLine.hasSuffix(" \(client) \(Wire.location) \(Wire.time)"), "reply \(index)")
                if index % 2 == 1 { #expect(answer.dropFirst(atLine.count).hasPrefix("\n{"), "reply \(index)") }
                rest = rest[end.upperBound...]
                answered += 1
            }
            #expect(answered == 500)
            #expect(rest.isEmpty, "left over: \(rest.prefix(200))")
        }
    }
}

extension TLSHerdTests {
    /// Stopping a server closes every connection it accepted, also one still in its TLS handshake (which
    /// would otherwise stay open until the handshake timeout, here five minutes).
    @Test func stoppingAServerClosesAConnectionStillInItsHandshake() async throws {
        let herd = try TestHerd(
            security: .tls(clients: true, peers: true, options: "{handshake_timeout_seconds: 300}"))
        try await herd.start("Alford")
        let port = try await herd.clientPort("Alford")
        // A client that connects and says nothing: no handshake, so no session yet.
        let silent = try RawConnection(port: port)
        let alford = try await herd.server("Alford")
        try await eventually("Alford to accept the connection") { try await alford.openConnectionCount() == 1 }
        async let ended = RawConnection.onThread { try silent.readToEnd() }
        await herd.stopAll()
        // The server closed it without a byte (the read would time out after 10 s otherwise).
        #expect(try await ended.isEmpty)
        try? FileManager.default.removeItem(atPath: herd.directory)
    }
}
