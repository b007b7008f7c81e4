import Foundation
import HerdKit
import Testing
import Transports

@Suite("TLS transport")
struct TLSTransportTests {
    /// Fails the test instead of hanging when `body` does not finish in time.
    private func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws
        -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let result = try await group.next(), let value = result else {
                throw TLSTestTimeout(limit: limit)
            }
            return value
        }
    }

    struct TLSTestTimeout: Error, CustomStringConvertible {
        let limit: Duration
        var description: String { "did not finish within \(limit)" }
    }

    private func client(_ configuration: TLSConfiguration, _ endpoint: Endpoint) throws -> HerdClient {
        HerdClient(endpoint: endpoint, transport: try TLSTransport(configuration: configuration))
    }

    // MARK: Data

    @Test func linesGoBothWaysAndBothSidesCloseWithCloseNotify() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            try await withTLSEchoServer(server) { endpoint, _ in
                // The exchange only ends without an error if each side's end of input was a close_notify:
                // a bare TCP close is reported as an unclean shutdown.
                let reply = try await client(.client(caFile: pki.caFile), endpoint).exchange(["one", "two", "three"])
                #expect(reply == "ONE\nTWO\nTHREE\n")
            }
        }
    }

    @Test func fiveHundredPipelinedLinesAndAMegabyteLineArriveIntact() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            try await withTLSEchoServer(server, limits: ConnectionLimits(maximumLineBytes: 4 << 20)) { endpoint, _ in
                let lines = (0..<500).map { "line \($0) " + String(repeating: "x", count: $0 % 97) }
                let client = try client(.client(caFile: pki.caFile), endpoint)
                let reply = try await client.exchange(lines)
                #expect(reply == lines.map { $0.uppercased() + "\n" }.joined())

                let big = (0..<(1 << 20)).map { i in String(UnicodeScalar(UInt8(97 + i % 26))) }.joined()
                let bigReply = try await client.exchange([big, "after"])
                #expect(bigReply.count == big.count + 7)
                #expect(bigReply == big.uppercased() + "\nAFTER\n")
            }
        }
    }

    @Test func tls12StillWorksWithHalfCloseAndCloseNotify() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            var client = TLSConfiguration.client(caFile: pki.caFile)
            client.maximumVersion = .tls12
            try await withTLSEchoServer(server) { endpoint, _ in
                let reply = try await self.client(client, endpoint).exchange(["over", "tls 1.2"])
                #expect(reply == "OVER\nTLS 1.2\n")
            }
        }
    }

    @Test func aServerWithMinimumTLS13RefusesATLS12Client() async throws {
        try await withTLSTestPKI { pki in
            var server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            server.minimumVersion = .tls13
            var client = TLSConfiguration.client(caFile: pki.caFile)
            client.maximumVersion = .tls12
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { endpoint, _ in
                await #expect(throws: TLSError.self) {
                    _ = try await self.client(client, endpoint).exchange(["hello"])
                }
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("unsupported protocol") == true, "\(log.messages)")
            }
        }
    }

    // MARK: Identity

    @Test func mutualTLSGivesEachSideTheOthersCertificateNames() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford")
            let client = try TLSTransport(configuration: try pki.configuration(presenting: "Parker"))
            try await withTLSEchoServer(server) { endpoint, identities in
                let connection = try await client.dial(endpoint, limits: ConnectionLimits())
                #expect(connection.peerIdentity == PeerIdentity(names: ["Alford"]))
                try await connection.run { _, outbound in outbound.finish() }
                // The server records the identity once its side of the handshake is done.
                #expect(await identities.waitForCount(1) == [PeerIdentity(names: ["Parker"])])
            }
        }
    }

    @Test func namesComeFromSubjectAltNamesThenTheCommonName() async throws {
        try await withTLSTestPKI { pki in
            let issued = try pki.authority.issue(
                commonName: "Welsh", dnsNames: ["welsh.example", "Welsh2"], ipAddresses: ["127.0.0.1"])
            try issued.write(certificateTo: pki.path("w.pem"), keyTo: pki.path("w.key"))
            let server = TLSConfiguration(
                certificateChainFile: pki.path("w.pem"), privateKeyFile: pki.path("w.key"), caFile: pki.caFile,
                verifyPeer: false)
            try await withTLSEchoServer(server) { endpoint, _ in
                let connection = try await TLSTransport(configuration: .client(caFile: pki.caFile))
                    .dial(endpoint, limits: ConnectionLimits())
                #expect(connection.peerIdentity == PeerIdentity(names: ["welsh.example", "Welsh2", "Welsh"]))
                try await connection.run { _, outbound in outbound.finish() }
            }
        }
    }

    @Test func withoutVerificationThereIsNoIdentity() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            let unverified = try pki.configuration(presenting: "Parker", verifyPeer: false)
            try await withTLSEchoServer(server) { endpoint, identities in
                let reply = try await client(unverified, endpoint).exchange(["x"])
                #expect(reply == "X\n")
                #expect(identities.all == [nil])
            }
        }
    }

    // MARK: Refusals

    @Test func aClientFromAnotherCAIsRefusedAndTheServerKeepsServing() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford")
            let stranger = try pki.configuration(presenting: "Parker", byOtherCA: true)
            let friend = try pki.configuration(presenting: "Welsh")
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { endpoint, identities in
                // With TLS 1.3 the client learns of the refusal after its handshake, from an alert or a closed
                // channel, whichever its next read or write meets first.
                await #expect(throws: (any Error).self) { _ = try await client(stranger, endpoint).exchange(["evil"]) }
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("certificate verify failed") == true, "\(log.messages)")
                #expect(refusal?.hasPrefix("warning") == true)
                let served = try await client(friend, endpoint).exchange(["still here"])
                #expect(served == "STILL HERE\n")
                #expect(identities.all == [PeerIdentity(names: ["Welsh"])])
            }
        }
    }

    @Test func anExpiredClientCertificateIsRefused() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford")
            let files = try pki.issue("Parker", file: "expired", validity: TLSTestPKI.expired)
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { endpoint, _ in
                #expect(throws: TLSError.self) {
                    _ = try TLSTransport(
                        configuration: TLSConfiguration(
                            certificateChainFile: files.certificate, privateKeyFile: files.key, caFile: pki.caFile,
                            verifyPeer: true))
                }
                // TLSTransport will not present an expired certificate of its own; the OpenSSL CLI will.
                _ = try await OpenSSLCLI.run(
                    [
                        "s_client", "-connect", endpoint.description, "-CAfile", pki.caFile, "-cert", files.certificate,
                        "-key", files.key,
                    ], input: "hello\n", until: { $0.contains("alert") })
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("certificate has expired") == true, "\(log.messages)")
            }
        }
    }

    @Test func aClientWithoutACertificateIsRefusedWhenOneIsRequired() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford")
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { endpoint, _ in
                await #expect(throws: (any Error).self) {
                    _ = try await client(.client(caFile: pki.caFile), endpoint).exchange(["anonymous"])
                }
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("did not return a certificate") == true, "\(log.messages)")
            }
        }
    }

    @Test func aDiallerRefusesAServerFromAnotherCA() async throws {
        try await withTLSTestPKI { pki in
            let impostor = try pki.configuration(presenting: "Alford", verifyPeer: false, byOtherCA: true)
            try await withTLSEchoServer(impostor) { endpoint, _ in
                let error = await #expect(throws: TLSError.self) {
                    _ = try await TLSTransport(configuration: .client(caFile: pki.caFile))
                        .dial(endpoint, limits: ConnectionLimits())
                }
                #expect("\(error.map(String.init(describing:)) ?? "")".contains("certificate verify failed"))
            }
        }
    }

    @Test func aDiallerChecksTheHostItDialled() async throws {
        try await withTLSTestPKI { pki in
            let files = try pki.issue("Alford", file: "elsewhere", host: "10.1.2.3")
            let server = TLSConfiguration(
                certificateChainFile: files.certificate, privateKeyFile: files.key, caFile: pki.caFile,
                verifyPeer: false)
            try await withTLSEchoServer(server) { endpoint, _ in
                let error = await #expect(throws: TLSError.self) {
                    _ = try await TLSTransport(configuration: .client(caFile: pki.caFile))
                        .dial(endpoint, limits: ConnectionLimits())
                }
                #expect("\(error.map(String.init(describing:)) ?? "")".contains("IP address mismatch"))
            }
        }
    }

    @Test func aPlainTCPClientGetsNotOneByteAndIsLogged() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { endpoint, _ in
                let received = try await within(.seconds(30)) {
                    let connection = try await TCPTransport().dial(endpoint, limits: ConnectionLimits())
                    return try? await connection.run { inbound, outbound in
                        try await outbound.write([Array("IAMAT kiwi +34.068930-118.445127 1621464827.9\n".utf8)])
                        outbound.finish()
                        var events: [InboundEvent] = []
                        for try await event in inbound { events.append(event) }
                        return events
                    }
                }
                #expect(received == nil || received == [])
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("not a TLS client") == true, "\(log.messages)")
                #expect(refusal?.contains("'IAMAT kiwi") == true)
                let served = try await client(.client(caFile: pki.caFile), endpoint).exchange(["ok"])
                #expect(served == "OK\n")
            }
        }
    }

    @Test func aSilentClientIsClosedAfterTheHandshakeTimeout() async throws {
        try await withTLSTestPKI { pki in
            var server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            server.handshakeTimeout = .milliseconds(300)
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { endpoint, _ in
                let received = try await within(.seconds(30)) {
                    let connection = try await TCPTransport().dial(endpoint, limits: ConnectionLimits(idleTimeout: nil))
                    return try? await connection.run { inbound, _ in
                        var events: [InboundEvent] = []
                        for try await event in inbound { events.append(event) }
                        return events
                    }
                }
                #expect(received == nil || received == [])
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("did not finish within") == true, "\(log.messages)")
            }
        }
    }

    @Test func stoppingAListenerDoesNotWaitOutAHandshakeInProgress() async throws {
        try await withTLSTestPKI { pki in
            var configuration = try pki.configuration(presenting: "Alford", verifyPeer: false)
            configuration.handshakeTimeout = .seconds(300)
            let listener = try await TLSTransport(configuration: configuration)
                .listen(on: Endpoint(host: "127.0.0.1", port: 0), limits: ConnectionLimits())
            let accepting = Task { try await listener.run { connection in try? await connection.run { _, _ in } } }
            // A client that connects and says nothing: its handshake would run for 300 seconds.
            let silent = try await TCPTransport().dial(listener.localEndpoint, limits: ConnectionLimits())
            try await Task.sleep(for: .milliseconds(100))
            accepting.cancel()
            _ = try await within(.seconds(30)) { _ = await accepting.result }
            let ended = try await within(.seconds(30)) {
                try? await silent.run { inbound, _ in
                    for try await _ in inbound {}
                }
                return true
            }
            #expect(ended)
        }
    }
}
