import Foundation
import HerdKit
import HerdTesting
import NIOCore
import Testing
import Transports

/// Mutual TLS between servers: only a neighbour whose certificate chains to the herd CA and names the server
/// its hello line claims can open a peer link, and so only it can inject AT lines. Each refusal is logged with
/// its reason, and the server goes on serving everyone else.
@Suite("Peer links over mutual TLS", .serialized)
struct TLSPeerAuthenticationTests {
    /// Dials Alford's peer endpoint with `transport`, says hello as `claimed`, and sends an AT line for `client`
    /// as if Parker had flooded it; returns once Alford has closed the connection. Refused during or after the
    /// handshake: exactly what these tests want, so a failed dial is no error here.
    private func attemptInjection(
        _ herd: TestHerd, using transport: any Transport, claiming claimed: String, client: String
    ) async throws {
        let peers = try await herd.endpoints("Alford").peers
        let update = "AT Parker +0.000000001 \(client) \(Wire.location) \(Wire.time)\n"
        guard let channel = try? await HerdClient.connect(to: peers, over: transport) else { return }
        try? await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "HELLO \(claimed)\n\(update)"))
            for try await _ in inbound {}
        }
    }

    /// Checks that the update did not get in. Alford refused the link and closed it before reading past the
    /// hello (the caller waited for the refusal), so nothing of it is on its way: Alford does not know
    /// `client`, and neither does its neighbour.
    private func expectNotInjected(_ herd: TestHerd, client: String) async throws {
        try await herd.waitUntilQuiet()
        try await herd.expectUnknown(client, at: "Alford")
        try await herd.expectUnknown(client, at: "Welsh")
    }

    /// Checks that Alford still serves clients and floods to its real neighbours after a refusal.
    private func expectStillServing(_ herd: TestHerd) async throws {
        let atLine = try await herd.report("honest", at: "Alford")
        try await herd.awaitLocation(of: "honest", atLine: atLine, at: "Parker")
    }

    @Test func aPeerWithACertificateFromAnotherCAIsRefused() async throws {
        try await withTestHerd(starting: ["Alford", "Parker", "Welsh"], security: .tls(clients: true, peers: true)) {
            herd in
            let stranger = try TLSTransport(configuration: try herd.identity("Parker", fromAnotherCA: true))
            try await attemptInjection(herd, using: stranger, claiming: "Parker", client: "mallory")
            let refusal = try await herd.waitForLogLine(
                "Alford", containing: ["peers endpoint refused", "verify failed"])
            #expect(refusal.contains("warning"))
            try await expectNotInjected(herd, client: "mallory")
            try await expectStillServing(herd)
        }
    }

    @Test func aPeerWhoseValidCertificateNamesAnotherServerIsRefused() async throws {
        try await withTestHerd(starting: ["Alford", "Parker", "Welsh"], security: .tls(clients: true, peers: true)) {
            herd in
            // Bolden is a real server of this herd, with a real certificate, but it claims to be Parker.
            let bolden = try TLSTransport(configuration: try herd.identity("Bolden"))
            try await attemptInjection(herd, using: bolden, claiming: "Parker", client: "mallory")
            try await herd.waitForLogLine(
                "Alford", containing: ["claiming Parker refused", "its certificate names Bolden"])
            try await expectNotInjected(herd, client: "mallory")

            // A certificate for a name that is in no config fares no better, whatever it claims.
            let outsider = try TLSTransport(configuration: try herd.identity("Mallory"))
            try await attemptInjection(herd, using: outsider, claiming: "Welsh", client: "eve")
            try await herd.waitForLogLine(
                "Alford", containing: ["claiming Welsh refused", "its certificate names Mallory"])
            try await expectNotInjected(herd, client: "eve")
            try await expectStillServing(herd)
        }
    }

    /// A herd certificate whose subject says CN=`commonName` but whose subjectAltName has only `dnsNames` (and
    /// 127.0.0.1), as a TLS configuration presenting it.
    private func identity(in herd: TestHerd, commonName: String, dnsNames: [String]) throws -> TLSConfiguration {
        let authority = try #require(herd.authority)
        let base = (herd.directory as NSString).appendingPathComponent("cn-\(commonName)-\(UUID().uuidString)")
        try authority.issue(commonName: commonName, dnsNames: dnsNames, ipAddresses: ["127.0.0.1"])
            .write(certificateTo: base + ".pem", keyTo: base + ".key")
        return TLSConfiguration(
            certificateChainFile: base + ".pem", privateKeyFile: base + ".key", caFile: herd.caFile, verifyPeer: true)
    }

    @Test func aPeerNamedOnlyInTheCommonNameOfItsCertificateIsRefused() async throws {
        try await withTestHerd(starting: ["Alford", "Parker", "Welsh"], security: .tls(clients: true, peers: true)) {
            herd in
            // CN=Parker, but the subjectAltName, the only name that counts, says Mallory.
            let mallory = try TLSTransport(
                configuration: try identity(in: herd, commonName: "Parker", dnsNames: ["Mallory"]))
            try await attemptInjection(herd, using: mallory, claiming: "Parker", client: "mallory")
            try await herd.waitForLogLine(
                "Alford", containing: ["claiming Parker refused", "its certificate names Mallory"])
            try await expectNotInjected(herd, client: "mallory")

            // CN=Welsh and no DNS subjectAltName at all: it names no server, whatever its common name says.
            let nameless = try TLSTransport(configuration: try identity(in: herd, commonName: "Welsh", dnsNames: []))
            try await attemptInjection(herd, using: nameless, claiming: "Welsh", client: "eve")
            try await herd.waitForLogLine("Alford", containing: ["claiming Welsh refused"])
            try await expectNotInjected(herd, client: "eve")
            try await expectStillServing(herd)
        }
    }

    @Test func aPlainTCPPeerIsRefused() async throws {
        try await withTestHerd(starting: ["Alford", "Parker", "Welsh"], security: .tls(clients: true, peers: true)) {
            herd in
            try await attemptInjection(herd, using: TCPTransport(), claiming: "Parker", client: "mallory")
            let refusal = try await herd.waitForLogLine(
                "Alford", containing: ["peers endpoint refused", "not a TLS client"])
            #expect(refusal.contains("'HELLO Parker"))
            try await expectNotInjected(herd, client: "mallory")
            try await expectStillServing(herd)
        }
    }

    /// An impostor with a valid herd certificate for Bolden listens where Alford expects Parker; its common name
    /// may even say Parker: only the subjectAltName counts.
    @Test(arguments: ["Bolden", "Parker"])
    func aDiallerRefusesAListenerThatIsNotTheNeighbourItDialled(commonName: String) async throws {
        let herd = try TestHerd(security: .tls(clients: true, peers: true))
        let impostor = try await LineRecorder.listen(
            on: try TLSTransport(configuration: try identity(in: herd, commonName: commonName, dnsNames: ["Bolden"])))
        herd.peerDirectory.record(impostor.endpoint, for: "Parker")
        do {
            try await herd.start("Alford")
            try await herd.waitForLogLine("Alford", containing: ["peer link to Parker", "identifies as Bolden"])
            #expect(!(try await herd.server("Alford").connectedNeighbours()).contains("Parker"))
            // Alford said nothing to it: no hello, so no updates either. Once a connection Alford opened to it
            // has closed, everything Alford sent on it has been read.
            try await eventually("Alford to close a connection to the impostor") { !impostor.closed.all.isEmpty }
            #expect(impostor.lines.all.isEmpty, "the impostor heard \(impostor.lines.all)")
        } catch {
            await herd.stopAll()
            await impostor.stop()
            throw error
        }
        await herd.stopAll()
        await impostor.stop()
        try? FileManager.default.removeItem(atPath: herd.directory)
    }
}
