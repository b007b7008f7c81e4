import Foundation
import Testing

/// What the tests send and how they check replies byte for byte (PROTOCOL.md sections 2 to 4).
enum Wire {
    /// The location and time of the protocol's own example.
    static let location = "+34.068930-118.445127"
    static let time = "1621464827.959498503"

    /// The skew field of an AT line when it has PROTOCOL.md's form: explicit sign, nine fractional digits.
    static func skew(inATLine line: Substring) -> String? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "AT" else { return nil }
        let skew = fields[2]
        guard skew.wholeMatch(of: #/[+-][0-9]+\.[0-9]{9}/#) != nil else { return nil }
        return String(skew)
    }

    /// The IAMAT line for `client`.
    static func iamat(_ client: String, location: String = location, time: String = time) -> String {
        "IAMAT \(client) \(location) \(time)"
    }

    /// The exact reply to an invalid line: `? `, the line without leading and trailing white space, LF.
    static func invalid(_ line: String) -> String {
        let whiteSpace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        let bytes = Array(line.utf8)
        guard let first = bytes.firstIndex(where: { !whiteSpace.contains($0) }) else { return "? \n" }
        let last = bytes.lastIndex(where: { !whiteSpace.contains($0) })!
        return "? " + String(decoding: bytes[first...last], as: UTF8.self) + "\n"
    }

    /// Splits the replies to pipelined WHATSATs: each is a `? ` line, or an AT line and JSON up to a blank line.
    static func splitReplies(_ text: String) -> [Substring] {
        var rest = Substring(text)
        var replies: [Substring] = []
        while !rest.isEmpty {
            let end: Substring.Index?
            if rest.hasPrefix("? ") {
                end = rest.firstIndex(of: "\n").map { rest.index(after: $0) }
            } else {
                end = rest.firstRange(of: "\n\n")?.upperBound
            }
            guard let end else {
                replies.append(rest)
                break
            }
            replies.append(rest[..<end])
            rest = rest[end...]
        }
        return replies
    }

    /// Checks that `reply` is exactly one AT line answering `IAMAT client location time` at `server`,
    /// and returns that line without its LF.
    @discardableResult
    static func expectATReply(
        _ reply: String, server: String, client: String, location: String = location, time: String = time,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let skew = try #require(
            reply.hasSuffix("\n") ? skew(inATLine: reply.dropLast()) : nil,
            "not an AT line with a well-formed skew: \(reply.debugDescription)", sourceLocation: sourceLocation)
        let expected = "AT \(server) \(skew) \(client) \(location) \(time)"
        #expect(reply == expected + "\n", sourceLocation: sourceLocation)
        return expected
    }

    /// Checks a WHATSAT reply: the AT line, LF, a Nearby Search JSON object with at most `bound` results
    /// (at least one when `expectResults`), status OK, no blank line inside, ending in `}` and two LFs.
    static func expectPlacesReply(
        _ reply: String, atLine: String, bound: Int, expectResults: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(reply.hasPrefix(atLine + "\n"), "first line: \(reply.prefix(200))", sourceLocation: sourceLocation)
        #expect(reply.hasSuffix("}\n\n"), "end: \(reply.suffix(40).debugDescription)", sourceLocation: sourceLocation)
        #expect(!reply.dropLast(2).contains("\n\n"), "a blank line before the end", sourceLocation: sourceLocation)
        guard reply.hasPrefix(atLine + "\n") else { return }
        let json = Data(reply.utf8.dropFirst(atLine.utf8.count + 1))
        let object = try #require(
            try JSONSerialization.jsonObject(with: json) as? [String: Any], "the JSON is not an object",
            sourceLocation: sourceLocation)
        #expect(object["html_attributions"] is [Any], sourceLocation: sourceLocation)
        let results = try #require(object["results"] as? [Any], "no results array", sourceLocation: sourceLocation)
        #expect(results.count <= bound, sourceLocation: sourceLocation)
        if expectResults {
            #expect(!results.isEmpty, sourceLocation: sourceLocation)
            #expect(object["status"] as? String == "OK", sourceLocation: sourceLocation)
        }
    }
}

extension TestHerd {
    /// Sends raw text to `server`'s client endpoint (the connection is half-closed after it) and returns the reply.
    func send(_ text: String, to server: String) async throws -> String {
        try await RawClient.exchange(port: try clientPort(server), text)
    }

    /// Reports `client` at `server` and checks the reply; returns the AT line (without LF).
    @discardableResult
    func report(
        _ client: String, at server: String, location: String = Wire.location, time: String = Wire.time,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await send(Wire.iamat(client, location: location, time: time) + "\n", to: server)
        return try Wire.expectATReply(
            reply, server: server, client: client, location: location, time: time, sourceLocation: sourceLocation)
    }

    /// The reply to `WHATSAT client radius bound` at `server`.
    func whatsat(_ client: String, at server: String, radius: String = "10", bound: Int = 5) async throws -> String {
        try await send("WHATSAT \(client) \(radius) \(bound)\n", to: server)
    }

    /// Asks `server` until its WHATSAT reply for `client` starts with `atLine` (propagation is asynchronous);
    /// a `? ` reply (not known yet) or an older AT line means ask again. Returns the reply.
    @discardableResult
    func awaitLocation(
        of client: String, atLine: String, at server: String, timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var reply = ""
        while ContinuousClock.now < deadline {
            reply = try await whatsat(client, at: server)
            if reply.hasPrefix(atLine + "\n") { return reply }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record(
            "\(server) never answered WHATSAT \(client) with \(atLine); last reply: \(reply.prefix(200).debugDescription)",
            sourceLocation: sourceLocation)
        throw HarnessError(description: "\(client) did not reach \(server)")
    }

    /// Like ``awaitLocation(of:atLine:at:timeout:sourceLocation:)`` for many clients at once: asks `server`
    /// with one pipelined WHATSAT per client still missing (bound 1) until each answers with its AT line.
    func awaitLocations(
        _ updates: [(client: String, atLine: String)], at server: String, timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var missing = updates
        while true {
            let reply = try await send(missing.map { "WHATSAT \($0.client) 10 1\n" }.joined(), to: server)
            let answers = Wire.splitReplies(reply)
            guard answers.count == missing.count else {
                Issue.record(
                    "\(missing.count) WHATSATs at \(server) got \(answers.count) replies: \(reply.prefix(300))",
                    sourceLocation: sourceLocation)
                throw HarnessError(description: "wrong number of replies from \(server)")
            }
            missing = zip(missing, answers).filter { !$1.hasPrefix($0.atLine + "\n") }.map(\.0)
            if missing.isEmpty { return }
            if ContinuousClock.now >= deadline {
                Issue.record(
                    "\(server) never learnt \(missing.map(\.atLine).joined(separator: "; "))",
                    sourceLocation: sourceLocation)
                throw HarnessError(description: "updates did not reach \(server)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Checks that `server` does not know `client`: WHATSAT is answered `? WHATSAT client 10 5`.
    func expectUnknown(_ client: String, at server: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let reply = try await whatsat(client, at: server)
        #expect(
            reply == "? WHATSAT \(client) 10 5\n", "\(server) knows \(client): \(reply.prefix(200))",
            sourceLocation: sourceLocation)
    }

    /// The log lines of `name` recording an AT line received from a peer (` peer X < AT ...`), leaving out
    /// the harness's own probe clients (see ``waitForLinks(timeout:)``).
    nonisolated func peerUpdates(receivedBy name: String) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: logPath(name)) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").filter {
            $0.contains(" peer ") && $0.contains(" < AT ") && !$0.contains(" harness.probe.")
        }
    }

    /// How many times `name` logged receiving exactly `atLine` from a peer.
    nonisolated func timesReceived(_ atLine: String, by name: String) -> Int {
        peerUpdates(receivedBy: name).filter { $0.hasSuffix(" < " + atLine) }.count
    }
}
