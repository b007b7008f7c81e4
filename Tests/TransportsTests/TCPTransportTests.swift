import HerdKit
import HerdTesting
import NIOCore
import Testing
import Transports

@Suite("TCP transport")
struct TCPTransportTests {
    private func withEchoServer(_ body: (EchoServer) async throws -> Void) async throws {
        try await EchoServer.with(TCPTransport(), body)
    }

    @Test func pipelinedLinesAreAnsweredInOrderAndTheLastUnterminatedLineCounts() async throws {
        try await withEchoServer { server in
            let reply = try await RawClient.exchange(port: server.endpoint.port, "one\ntwo\nthree")
            #expect(reply == "ONE\nTWO\nTHREE\n")
        }
    }

    @Test func theListenerReportsTheRealPortAndHandsOverTheRemoteAddress() async throws {
        try await withEchoServer { server in
            #expect(server.endpoint.port != 0)
            _ = try await HerdClient(endpoint: server.endpoint).exchange(["x"])
            let peer = try #require(server.peers.all.first)
            #expect(peer.remoteDescription.hasPrefix("127.0.0.1:"))
            #expect(peer.identity == nil)
        }
    }

    @Test func aConnectionTheServerDoesNotAdmitIsClosedBeforeAnyByte() async throws {
        let transport = TCPTransport()
        let setup = ConnectionSetup(admit: { _ in false }, ready: { _, _ in Issue.record("ready after refusal") })
        let listener = try await transport.listen(
            on: Endpoint(host: "127.0.0.1", port: 0), eventLoop: transport.eventLoopGroup.next(), setup: setup
        ).get()
        let port = try #require(listener.localAddress?.port)
        let reply = try await RawClient.exchange(port: port, "hello\n")
        #expect(reply.isEmpty)
        try await listener.close()
    }

    @Test func dialingAClosedPortFails() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen(
            on: Endpoint(host: "127.0.0.1", port: 0), eventLoop: transport.eventLoopGroup.next(),
            setup: ConnectionSetup { _, _ in }
        ).get()
        let endpoint = Endpoint(listener.localAddress!)!
        try await listener.close()
        await #expect(throws: (any Error).self) { _ = try await transport.dialledPeer(endpoint) }
    }

    @Test func aRestartedListenerRebindsTheSamePortAtOnce() async throws {
        let transport = TCPTransport()
        let first = try await EchoServer.start(on: transport)
        let port = first.endpoint.port
        // A connection that was open makes the port linger in TIME_WAIT without SO_REUSEADDR.
        _ = try await HerdClient(endpoint: first.endpoint).exchange(["x"])
        await first.stop()
        let second = try await transport.listen(
            on: Endpoint(host: "127.0.0.1", port: port), eventLoop: transport.eventLoopGroup.next(),
            setup: ConnectionSetup { _, _ in }
        ).get()
        #expect(second.localAddress?.port == port)
        try await second.close()
    }
}
