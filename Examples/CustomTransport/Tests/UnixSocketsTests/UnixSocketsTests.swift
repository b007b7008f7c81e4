import Foundation
import HerdCLI
import HerdKit
import Testing
import Transports
import UnixSockets

/// The servers' receive time, fixed so the skew in AT lines is known: 1621464828.223372036.
let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_372_036)

@Suite("The unix transport, in running servers")
struct UnixSocketsTests {
    static let nowhere = "IAMAT kiwi +00.000000+000.000000 1621464827.959498503"
    static let atLine = "AT Alford +0.263873533 kiwi +00.000000+000.000000 1621464827.959498503"

    @Test("a client reaches a server's client endpoint through the socket file its host and port name")
    func clients() async throws {
        let directory = try TemporaryDirectory()
        let yaml = """
            servers: [{name: Alford, client_port: 12000, peer_port: 0}]
            transport: {clients: {name: unix, options: {directory: sockets}}, peers: tcp}
            log_dir: logs
            """
        let replies = try await withServers(yaml, in: directory.path) { _ in
            #expect(FileManager.default.fileExists(atPath: directory.path + "/sockets/127.0.0.1-12000.sock"))
            let transport = UnixSocketTransport(directory: directory.path + "/sockets")
            let client = HerdClient(endpoint: Endpoint(host: "127.0.0.1", port: 12000), transport: transport)
            return try await client.exchange([Self.nowhere, "HELLO there"])
        }
        #expect(replies == "\(Self.atLine)\n? HELLO there\n")
    }

    @Test("neighbours flood updates over unix peer links")
    func peers() async throws {
        let directory = try TemporaryDirectory()
        let yaml = """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - {name: Bolden, client_port: 12001, peer_port: 12101}
            links: [[Alford, Bolden]]
            transport: {clients: unix, peers: unix}
            peer_links: {redial_initial_ms: 20, redial_max_ms: 200}
            log_dir: logs
            """
        let transport = UnixSocketTransport(directory: directory.path + "/sockets")
        let (report, query) = try await withServers(yaml, in: directory.path) { servers in
            try await waitForLinks(servers)
            let report = try await HerdClient(endpoint: Endpoint(host: "127.0.0.1", port: 12000), transport: transport)
                .exchange([Self.nowhere])
            let query = try await HerdClient(endpoint: Endpoint(host: "127.0.0.1", port: 12001), transport: transport)
                .exchange(["WHATSAT kiwi 1 1"])
            return (report, query)
        }
        #expect(report == "\(Self.atLine)\n")
        #expect(
            query == """
                \(Self.atLine)
                {
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "ZERO_RESULTS"
                }
                """ + "\n\n")  // A WHATSAT reply ends in an empty line.
    }

    @Test("port 0 cannot name a socket: the server does not start, and says why")
    func portZero() async throws {
        let directory = try TemporaryDirectory()
        let yaml = """
            servers: [{name: Alford, client_port: 0, peer_port: 12100}]
            transport: {clients: unix, peers: unix}
            log_dir: logs
            """
        await #expect {
            try await withServers(yaml, in: directory.path) { _ in }
        } throws: { error in
            "\(error)".hasSuffix(
                "127.0.0.1:0: port 0 cannot pick a free socket; give the server a port number (it only names the "
                    + "socket file)")
        }
    }

    /// Runs every server of `yaml` (with `unix` registered, logs and sockets in `directory`) while `body` runs.
    func withServers<Result: Sendable>(
        _ yaml: String, in directory: String, _ body: ([HerdServer]) async throws -> Result
    ) async throws -> Result {
        var registry = HerdRegistry.standard
        UnixSocketTransport.register(in: &registry)
        let config = try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: directory)
        let servers = try config.servers.map {
            try HerdServer(name: $0.name, config: config, registry: registry, clock: FixedClock(receivedAt))
        }
        return try await withRunningServers(servers) { _ in try await body(servers) }
    }

    /// Waits (at most 10 s) until every server has a link to each of its neighbours.
    func waitForLinks(_ servers: [HerdServer]) async throws {
        for _ in 0..<1000 {
            if servers.allSatisfy({ Set($0.connectedNeighbours) == Set($0.config.neighbours(of: $0.name)) }) {
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("peer links did not come up within 10 s")
    }
}

/// A fresh directory, removed when the value goes away.
final class TemporaryDirectory {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("herd-example-\(UUID())").path

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
