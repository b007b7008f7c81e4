import HerdKit
import Testing
import Transports

@Suite("TCP transport")
struct TCPTransportTests {
    /// Runs an echo-upper-case server on a free port for the duration of `body`.
    private func withEchoServer(
        limits: ConnectionLimits = ConnectionLimits(), _ body: (Endpoint) async throws -> Void
    ) async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen(on: Endpoint(host: "127.0.0.1", port: 0), limits: limits)
        #expect(listener.localEndpoint.port != 0)
        let server = Task {
            try await listener.run { connection in
                try? await connection.run { inbound, outbound in
                    for try await event in inbound {
                        guard case .lines(let lines) = event else { return }
                        try await outbound.write(
                            lines.map { Array(String(decoding: $0, as: UTF8.self).uppercased().utf8) + [0x0A] })
                    }
                }
            }
        }
        defer { server.cancel() }
        try await body(listener.localEndpoint)
        server.cancel()
        _ = await server.result
    }

    @Test func pipelinedLinesAreAnsweredInOrderAndTheLastUnterminatedLineCounts() async throws {
        try await withEchoServer { endpoint in
            let reply = try await HerdClient(endpoint: endpoint).exchange(["one", "two", "three"])
            #expect(reply == "ONE\nTWO\nTHREE\n")
        }
    }

    @Test func dialingAClosedPortFails() async throws {
        let listener = try await TCPTransport().listen(
            on: Endpoint(host: "127.0.0.1", port: 0), limits: ConnectionLimits())
        let endpoint = listener.localEndpoint
        await listener.close()
        await #expect(throws: (any Error).self) {
            _ = try await TCPTransport().dial(endpoint, limits: ConnectionLimits())
        }
    }

    @Test func anIdleConnectionIsClosedByTheServer() async throws {
        try await withEchoServer(limits: ConnectionLimits(idleTimeout: .seconds(3))) { endpoint in
            let connection = try await TCPTransport().dial(endpoint, limits: ConnectionLimits(idleTimeout: nil))
            try await connection.run { inbound, outbound in
                try await outbound.write([Array("hello\n".utf8)])
                var received: [InboundEvent] = []
                // Never half-closes: only the server's idle timeout can end this loop.
                for try await event in inbound { received.append(event) }
                #expect(received == [.lines([Array("HELLO".utf8)])])
            }
        }
    }

    @Test func aRestartedListenerRebindsTheSamePortAtOnce() async throws {
        let transport = TCPTransport()
        let first = try await transport.listen(on: Endpoint(host: "127.0.0.1", port: 0), limits: ConnectionLimits())
        let port = first.localEndpoint.port
        let connection = try await transport.dial(first.localEndpoint, limits: ConnectionLimits())
        let accepting = Task { try await first.run { accepted in try? await accepted.run { _, _ in } } }
        try await connection.run { _, _ in }
        accepting.cancel()
        _ = await accepting.result
        let second = try await transport.listen(on: Endpoint(host: "127.0.0.1", port: port), limits: ConnectionLimits())
        #expect(second.localEndpoint.port == port)
        await second.close()
    }
}
