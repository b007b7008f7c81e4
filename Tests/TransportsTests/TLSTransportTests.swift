import Foundation
import HerdKit
import HerdTesting
import Logging
import NIOCore
import Testing
import Transports

@Suite("TLS transport")
struct TLSTransportTests {
    private func client(_ configuration: TLSConfiguration, _ endpoint: Endpoint) throws -> HerdClient {
        HerdClient(endpoint: endpoint, transport: try TLSTransport(configuration: configuration))
    }

    /// An upper-casing echo server behind TLS for the duration of `body`, with the identities the
    /// transport handed over.
    private func withTLSEchoServer(
        _ configuration: TLSConfiguration, logger: Logger? = nil,
        _ body: (Endpoint) async throws -> Void
    ) async throws {
        let transport = try TLSTransport(configuration: configuration, logger: logger, endpointName: "clients")
        let server = try await EchoServer.start(on: transport)
        do {
            try await body(server.endpoint)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func withTLSEchoServer(
        _ configuration: TLSConfiguration, logger: Logger? = nil, _ body: (EchoServer) async throws -> Void
    ) async throws {
        let transport = try TLSTransport(configuration: configuration, logger: logger, endpointName: "clients")
        try await EchoServer.with(transport, body)
    }

    // MARK: Data

    @Test func linesGoBothWaysAndBothSidesCloseWithCloseNotify() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            try await withTLSEchoServer(server) { (endpoint: Endpoint) in
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
            try await withTLSEchoServer(server) { (endpoint: Endpoint) in
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
            try await withTLSEchoServer(server) { (endpoint: Endpoint) in
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
            try await withTLSEchoServer(server, logger: log.logger) { (endpoint: Endpoint) in
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
            try await withTLSEchoServer(server) { (echo: EchoServer) in
                #expect(try await client.dialledPeer(echo.endpoint).identity == PeerIdentity(names: ["Alford"]))
                // The server hands the connection over once its side of the handshake is done.
                try await eventually("the server to take the connection") { !echo.peers.all.isEmpty }
                #expect(echo.peers.all.map(\.identity) == [PeerIdentity(names: ["Parker"])])
            }
        }
    }

    /// The identity is the certificate's DNS subjectAltNames only: the common name is not one of them, and a
    /// certificate that has a common name but no DNS subjectAltName names no one.
    @Test(arguments: [["welsh.example", "Welsh2"], ["welsh.example"], []])
    func namesComeFromSubjectAltNamesOnly(dnsNames: [String]) async throws {
        try await withTLSTestPKI { pki in
            // The IP entry is for the dialler's host check (it dials 127.0.0.1).
            let issued = try pki.authority.issue(commonName: "Welsh", dnsNames: dnsNames, ipAddresses: ["127.0.0.1"])
            try issued.write(certificateTo: pki.path("w.pem"), keyTo: pki.path("w.key"))
            let server = TLSConfiguration(
                certificateChainFile: pki.path("w.pem"), privateKeyFile: pki.path("w.key"), caFile: pki.caFile,
                verifyPeer: false)
            try await withTLSEchoServer(server) { (endpoint: Endpoint) in
                let peer = try await TLSTransport(configuration: .client(caFile: pki.caFile)).dialledPeer(endpoint)
                #expect(peer.identity == PeerIdentity(names: dnsNames))
            }
        }
    }

    @Test func withoutVerificationThereIsNoIdentity() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            let unverified = try pki.configuration(presenting: "Parker", verifyPeer: false)
            try await withTLSEchoServer(server) { (echo: EchoServer) in
                let reply = try await client(unverified, echo.endpoint).exchange(["x"])
                #expect(reply == "X\n")
                #expect(echo.peers.all.map(\.identity) == [nil])
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
            try await withTLSEchoServer(server, logger: log.logger) { (echo: EchoServer) in
                // With TLS 1.3 the client learns of the refusal after its handshake, from an alert or a closed
                // channel, whichever its next read or write meets first.
                await #expect(throws: (any Error).self) {
                    _ = try await client(stranger, echo.endpoint).exchange(["evil"])
                }
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("certificate verify failed") == true, "\(log.messages)")
                #expect(refusal?.hasPrefix("warning") == true)
                let served = try await client(friend, echo.endpoint).exchange(["still here"])
                #expect(served == "STILL HERE\n")
                #expect(echo.peers.all.map(\.identity) == [PeerIdentity(names: ["Welsh"])])
            }
        }
    }

    @Test func anExpiredClientCertificateIsRefused() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford")
            let files = try pki.issue("Parker", file: "expired", validity: TLSTestPKI.expired)
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { (endpoint: Endpoint) in
                #expect(throws: TLSError.self) {
                    _ = try TLSTransport(
                        configuration: TLSConfiguration(
                            certificateChainFile: files.certificate, privateKeyFile: files.key, caFile: pki.caFile,
                            verifyPeer: true))
                }
                // TLSTransport will not present an expired certificate of its own; the OpenSSL CLI will.
                _ = try await OpenSSLClient.run(
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
            try await withTLSEchoServer(server, logger: log.logger) { (endpoint: Endpoint) in
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
            try await withTLSEchoServer(impostor) { (endpoint: Endpoint) in
                let error = await #expect(throws: TLSError.self) {
                    _ = try await TLSTransport(configuration: .client(caFile: pki.caFile)).dialledPeer(endpoint)
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
            try await withTLSEchoServer(server) { (endpoint: Endpoint) in
                let error = await #expect(throws: TLSError.self) {
                    _ = try await TLSTransport(configuration: .client(caFile: pki.caFile)).dialledPeer(endpoint)
                }
                #expect("\(error.map(String.init(describing:)) ?? "")".contains("IP address mismatch"))
            }
        }
    }

    /// A dialler checks the host against the server's subjectAltName only: a certificate whose common name is
    /// the host but whose subjectAltName leaves it out does not pass for it, even when the certificate has no
    /// DNS subjectAltName at all (where OpenSSL would otherwise fall back to the common name).
    @Test(arguments: [
        (["localhost"], [], true), (["elsewhere.example"], [], false), ([], ["10.1.2.3"], false), ([], [], false),
    ])
    func aDiallerMatchesTheHostOnSubjectAltNamesNotTheCommonName(
        dnsNames: [String], ipAddresses: [String], accepted: Bool
    ) async throws {
        try await withTLSTestPKI { pki in
            let issued = try pki.authority.issue(commonName: "localhost", dnsNames: dnsNames, ipAddresses: ipAddresses)
            try issued.write(certificateTo: pki.path("cn.pem"), keyTo: pki.path("cn.key"))
            let server = TLSConfiguration(
                certificateChainFile: pki.path("cn.pem"), privateKeyFile: pki.path("cn.key"), caFile: pki.caFile,
                verifyPeer: false)
            try await withTLSEchoServer(server) { (endpoint: Endpoint) in
                let byName = Endpoint(host: "localhost", port: endpoint.port)
                let dialler = try TLSTransport(configuration: .client(caFile: pki.caFile))
                if accepted {
                    #expect(try await dialler.dialledPeer(byName).identity == PeerIdentity(names: dnsNames))
                } else {
                    let error = await #expect(throws: TLSError.self) { _ = try await dialler.dialledPeer(byName) }
                    #expect("\(error.map(String.init(describing:)) ?? "")".contains("hostname mismatch"))
                }
            }
        }
    }

    @Test func aPlainTCPClientGetsNotOneByteAndIsLogged() async throws {
        try await withTLSTestPKI { pki in
            let server = try pki.configuration(presenting: "Alford", verifyPeer: false)
            let log = LogCapture()
            try await withTLSEchoServer(server, logger: log.logger) { (endpoint: Endpoint) in
                // The server closes without writing a byte back: the client reads end of input at once.
                let received = try await RawClient.exchange(
                    port: endpoint.port, "IAMAT kiwi +34.068930-118.445127 1621464827.9\n")
                #expect(received.isEmpty)
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
            try await withTLSEchoServer(server, logger: log.logger) { (endpoint: Endpoint) in
                // Connects and says nothing; the server closes it once the handshake timeout passes.
                let received = try await RawConnection.onThread {
                    try RawConnection(port: endpoint.port).readToEnd()
                }
                #expect(received.isEmpty)
                let refusal = await log.waitFor("refused")
                #expect(refusal?.contains("did not finish within") == true, "\(log.messages)")
            }
        }
    }
}
