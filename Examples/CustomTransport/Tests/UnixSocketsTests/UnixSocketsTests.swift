import Foundation
import HerdCLI
import HerdKit
import HerdTesting
import Testing
import Transports
import UnixSockets

// Ports in these configs only name socket files: no TCP port is bound for them, and each herd has a scratch
// directory of its own, so fixed numbers cannot clash between tests.
@Suite("The unix transport, in running servers")
struct UnixSocketsTests {
    static var registry: HerdRegistry {
        var registry = HerdRegistry.standard
        UnixSocketTransport.register(in: &registry)
        return registry
    }

    @Test("a client reaches a server's client endpoint through the socket file its host and port name")
    func clients() async throws {
        let yaml = """
            servers: [{name: Alford, client_port: 12000, peer_port: 0}]
            transport: {clients: {name: unix, options: {directory: sockets}}, peers: tcp}
            """
        try await withTestHerd(yaml: yaml, registry: Self.registry) { herd in
            #expect(FileManager.default.fileExists(atPath: herd.directory + "/sockets/127.0.0.1-12000.sock"))
            let transport = UnixSocketTransport(directory: herd.directory + "/sockets")
            let client = HerdClient(endpoint: try await herd.endpoints("Alford").clients, transport: transport)
            let replies = try await client.exchange([Wire.iamat("kiwi"), "HELLO there"])
            let atLine = try Wire.expectATReply(
                String(replies.prefix { $0 != "\n" }) + "\n", server: "Alford", client: "kiwi")
            #expect(replies == "\(atLine)\n? HELLO there\n")
        }
    }

    @Test("neighbours flood updates over unix peer links")
    func peers() async throws {
        let yaml = """
            servers:
              - {name: Alford, client_port: 0, peer_port: 12100}
              - {name: Bolden, client_port: 0, peer_port: 12101}
            links: [[Alford, Bolden]]
            transport: {clients: tcp, peers: unix}
            peer_links: {redial_initial_ms: 20, redial_max_ms: 200}
            """
        // withTestHerd waits until both links are up.
        try await withTestHerd(yaml: yaml, registry: Self.registry) { herd in
            #expect(FileManager.default.fileExists(atPath: herd.directory + "/sockets/127.0.0.1-12101.sock"))
            let atLine = try await herd.report("kiwi", at: "Alford")
            // Alford answered once Bolden had the update, so Bolden knows it now.
            try Wire.expectPlacesReply(try await herd.whatsat("kiwi", at: "Bolden"), atLine: atLine, bound: 5)
        }
    }

    @Test("port 0 cannot name a socket: the server does not start, and says why")
    func portZero() async throws {
        let yaml = """
            servers: [{name: Alford, client_port: 0, peer_port: 12100}]
            transport: {clients: unix, peers: unix}
            """
        let herd = try TestHerd(yaml: yaml, registry: Self.registry)
        defer { try? FileManager.default.removeItem(atPath: herd.directory) }
        await #expect {
            try await herd.start("Alford")
        } throws: { error in
            "\(error)".hasSuffix(
                "127.0.0.1:0: port 0 cannot pick a free socket; give the server a port number (it only names the "
                    + "socket file)")
        }
    }

    @Test("TLS wraps the unix transport as it wraps TCP: TLSTransport(configuration:base:)")
    func tls() async throws {
        // A TLS test herd gets a CA and a certificate per server in certs/, and `tls` for its client endpoints;
        // here `tls` is registered again as TLS over Unix sockets, the way a user would register it.
        var registry = Self.registry
        registry.registerTransport("tls") { context, kind in
            let configuration = try TLSConfiguration(
                options: context.options, serverName: context.serverName, kind: kind)
            let unix = UnixSocketTransport(
                directory: ConfigPaths.resolve("sockets", against: context.config.baseDirectory))
            return try TLSTransport(
                configuration: configuration, base: unix, logger: context.logger, endpointName: kind.rawValue)
        }
        let yaml = "servers: [{name: Alford, client_port: 12000, peer_port: 0}]"
        try await withTestHerd(yaml: yaml, security: .tls(clients: true, peers: false), registry: registry) { herd in
            let endpoint = try await herd.endpoints("Alford").clients
            let unix = UnixSocketTransport(directory: herd.directory + "/sockets")
            let secured = try TLSTransport(configuration: .client(caFile: herd.directory + "/certs/ca.pem"), base: unix)
            let reply = try await HerdClient(endpoint: endpoint, transport: secured).exchange([Wire.iamat("kiwi")])
            try Wire.expectATReply(reply, server: "Alford", client: "kiwi")
            // The socket carries TLS: a plain client on it gets no herd reply (the handshake fails).
            let plain = try? await HerdClient(endpoint: endpoint, transport: unix).exchange([Wire.iamat("kiwi")])
            #expect(!(plain ?? "").contains("AT Alford"))
        }
    }
}
