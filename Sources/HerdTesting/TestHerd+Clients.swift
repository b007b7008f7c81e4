import Foundation
import HerdKit
import Testing
import Transports

extension TestHerd {
    /// Sends raw text to `server`'s client endpoint (the connection is half-closed after it) and returns
    /// everything written back: byte for byte over TCP, through the harness's client transport otherwise.
    public func send(_ text: String, to server: String) async throws -> String {
        let endpoint = try endpoints(server).clients
        if clientTransport is TCPTransport { return try await RawClient.exchange(port: endpoint.port, text) }
        let bytes = try await HerdClient(endpoint: endpoint, transport: clientTransport).exchange(
            bytes: Array(text.utf8))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reports `client` at `server` and checks the reply; returns the AT line (without LF).
    @discardableResult
    public func report(
        _ client: String, at server: String, location: String = Wire.location, time: String = Wire.time,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await send(Wire.iamat(client, location: location, time: time) + "\n", to: server)
        return try Wire.expectATReply(
            reply, server: server, client: client, location: location, time: time, sourceLocation: sourceLocation)
    }

    /// The reply to `WHATSAT client radius bound` at `server`.
    public func whatsat(_ client: String, at server: String, radius: String = "10", bound: Int = 5) async throws
        -> String
    {
        try await send("WHATSAT \(client) \(radius) \(bound)\n", to: server)
    }

    /// Asks `server` until its WHATSAT reply for `client` starts with `atLine` (propagation is asynchronous);
    /// a `? ` reply (not known yet) or an older AT line means ask again. Returns the reply.
    @discardableResult
    public func awaitLocation(
        of client: String, atLine: String, at server: String, timeout: Duration = .seconds(20),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        var reply = ""
        do {
            try await eventually("\(server) to know \(atLine)", timeout: timeout, poll: .milliseconds(20)) {
                reply = try await whatsat(client, at: server)
                return reply.hasPrefix(atLine + "\n")
            }
        } catch {
            Issue.record(
                "\(server) never answered WHATSAT \(client) with \(atLine); last reply: \(reply.prefix(200).debugDescription)",
                sourceLocation: sourceLocation)
            throw error
        }
        return reply
    }

    /// Like ``awaitLocation(of:atLine:at:timeout:sourceLocation:)`` for many clients at once: asks `server`
    /// with one pipelined WHATSAT per client still missing (bound 1) until each answers with its AT line.
    public func awaitLocations(
        _ updates: [(client: String, atLine: String)], at server: String, timeout: Duration = .seconds(20),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var missing = updates
        do {
            try await eventually(
                "\(server) to know \(missing.count) updates", timeout: timeout, poll: .milliseconds(20)
            ) {
                let reply = try await send(missing.map { "WHATSAT \($0.client) 10 1\n" }.joined(), to: server)
                let answers = Wire.splitReplies(reply)
                guard answers.count == missing.count else {
                    throw HarnessError(
                        "\(missing.count) WHATSATs at \(server) got \(answers.count) replies: \(reply.prefix(300))")
                }
                missing = zip(missing, answers).filter { !$1.hasPrefix($0.atLine + "\n") }.map(\.0)
                return missing.isEmpty
            }
        } catch {
            Issue.record(
                "\(server) never learnt \(missing.map(\.atLine).joined(separator: "; "))",
                sourceLocation: sourceLocation)
            throw error
        }
    }

    /// Checks that `server` does not know `client`: WHATSAT is answered `? WHATSAT client 10 5`.
    public func expectUnknown(_ client: String, at server: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let reply = try await whatsat(client, at: server)
        #expect(
            reply == "? WHATSAT \(client) 10 5\n", "\(server) knows \(client): \(reply.prefix(200))",
            sourceLocation: sourceLocation)
    }

    /// The log lines of `name` recording an AT line received from a peer (` peer X < AT ...`).
    public func peerUpdates(receivedBy name: String) async throws -> [Substring] {
        try await log(name).split(separator: "\n").filter { $0.contains(" peer ") && $0.contains(" < AT ") }
    }

    /// How many times `name` logged receiving exactly `atLine` from a peer.
    public func timesReceived(_ atLine: String, by name: String) async throws -> Int {
        try await peerUpdates(receivedBy: name).filter { $0.hasSuffix(" < " + atLine) }.count
    }
}
