import Foundation
import HerdKit
import Testing
import Transports

/// Mutual TLS between servers: only a neighbour whose certificate chains to the herd CA and names the server
/// its hello line claims can open a peer link, and so only it can inject AT lines. Each refusal is logged with
/// its reason, and the server goes on serving everyone else.
@Suite("Peer links over mutual TLS", .serialized)
struct TLSPeerAuthenticationTests {
    /// Dials Alford's peer endpoint with `transport`, says hello as `claimed`, and sends an AT line for `client`
    /// as if Parker had flooded it. Whatever the connection does (refused, dropped) is not an error here.
    private func attemptInjection(
        _ herd: TLSTestHerd, using transport: any Transport, claiming claimed: String, client: String
    ) async throws {
        let peers = try await herd.endpoints("Alford").peers
        let update = "AT Parker +0.000000001 \(client) \(Wire.location) \(Wire.time)\n"
        do {
            let connection = try await transport.dial(peers, limits: ConnectionLimits(idleTimeout: .seconds(10)))
            try await connection.run { inbound, outbound in
                try await outbound.write([Array("HELLO \(claimed)\n\(update)".utf8)])
                outbound.finish()
                for try await _ in inbound {}
            }
        } catch {
            // Refused during or after the handshake: exactly what these tests want.
        }
    }

    /// Checks that the update did not get in: Alford does not know `client`, and neither does its neighbour.
    private func expectNotInjected(_ herd: TLSTestHerd, client: String) async throws {
        try await Task.sleep(for: .milliseconds(200))
        try await herd.expectUnknown(client, at: "Alford")
        try await herd.expectUnknown(client, at: "Welsh")
    }

    /// Checks that Alford still serves clients and floods to its real neighbours after a refusal.
    private func expectStillServing(_ herd: TLSTestHerd) async throws {
        let atLine = try await herd.report("honest", at: "Alford")
        try await herd.awaitLocation(of: "honest", atLine: atLine, at: "Parker")
    }

    @Test func aPeerWithACertificateFromAnotherCAIsRefused() async throws {
        try await withTLSTestHerd(starting: ["Alford", "Parker", "Welsh"]) { herd in
            let stranger = try TLSTransport(configuration: try herd.identity("Parker", fromAnotherCA: true))
            try await attemptInjection(herd, using: stranger, claiming: "Parker", client: "mallory")
            try await expectNotInjected(herd, client: "mallory")
            let refusal = await herd.waitForLogLine("Alford", containing: ["peers endpoint refused", "verify failed"])
            #expect(refusal?.contains("warning") == true, "\(herd.log("Alford").suffix(600))")
            try await expectStillServing(herd)
        }
    }

    @Test func aPeerWhoseValidCertificateNamesAnotherServerIsRefused() async throws {
        try await withTLSTestHerd(starting: ["Alford", "Parker", "Welsh"]) { herd in
            // Bolden is a real server of this herd, with a real certificate, but it claims to be Parker.
            let bolden = try TLSTransport(configuration: try herd.identity("Bolden"))
            try await attemptInjection(herd, using: bolden, claiming: "Parker", client: "mallory")
            try await expectNotInjected(herd, client: "mallory")
            let refusal = await herd.waitForLogLine(
                "Alford", containing: ["claiming Parker refused", "its certificate names Bolden"])
            #expect(refusal != nil, "\(herd.log("Alford").suffix(600))")

            // A certificate for a name that is in no config fares no better, whatever it claims.
            let outsider = try TLSTransport(configuration: try herd.identity("Mallory"))
            try await attemptInjection(herd, using: outsider, claiming: "Welsh", client: "eve")
            try await expectNotInjected(herd, client: "eve")
            let second = await herd.waitForLogLine(
                "Alford", containing: ["claiming Welsh refused", "its certificate names Mallory"])
            #expect(second != nil, "\(herd.log("Alford").suffix(600))")
            try await expectStillServing(herd)
        }
    }

    @Test func aPlainTCPPeerIsRefused() async throws {
        try await withTLSTestHerd(starting: ["Alford", "Parker", "Welsh"]) { herd in
            try await attemptInjection(herd, using: TCPTransport(), claiming: "Parker", client: "mallory")
            try await expectNotInjected(herd, client: "mallory")
            let refusal = await herd.waitForLogLine(
                "Alford", containing: ["peers endpoint refused", "not a TLS client"])
            #expect(refusal?.contains("'HELLO Parker") == true, "\(herd.log("Alford").suffix(600))")
            try await expectStillServing(herd)
        }
    }

    @Test func aDiallerRefusesAListenerThatIsNotTheNeighbourItDialled() async throws {
        let herd = try TLSTestHerd()
        // An impostor with a valid herd certificate for Bolden listens where Alford expects Parker.
        let impostor = try TLSTransport(configuration: try herd.identity("Bolden"))
        let listener = try await impostor.listen(on: Endpoint(host: "127.0.0.1", port: 0), limits: ConnectionLimits())
        let heard = TLSRecorded<String>()
        let accepting = Task {
            try await listener.run { connection in
                try? await connection.run { inbound, _ in
                    for try await event in inbound {
                        if case .lines(let lines) = event {
                            for line in lines { heard.append(String(decoding: line, as: UTF8.self)) }
                        }
                    }
                }
            }
        }
        defer { accepting.cancel() }
        herd.peerDirectory.record(listener.localEndpoint, for: "Parker")
        do {
            try await herd.start("Alford")
            let refusal = await herd.waitForLogLine(
                "Alford", containing: ["peer link to Parker", "refused", "identifies as Bolden"])
            #expect(refusal != nil, "\(herd.log("Alford").suffix(600))")
            #expect(!(await herd.connectedNeighbours(of: "Alford")).contains("Parker"))
            // Alford said nothing to it: no hello, so no updates either.
            #expect(heard.all.isEmpty, "the impostor heard \(heard.all)")
        } catch {
            await herd.stopAll()
            throw error
        }
        await herd.stopAll()
        accepting.cancel()
        _ = await accepting.result
        try? FileManager.default.removeItem(atPath: herd.directory)
    }
}
