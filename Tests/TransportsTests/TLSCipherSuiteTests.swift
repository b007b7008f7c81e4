import Foundation
import HerdKit
import HerdTesting
import Testing
import Transports

/// The TLS 1.2 cipher suites a herd agrees to, listening and dialling: ECDHE key exchange with AES-GCM or
/// ChaCha20-Poly1305, for ECDSA keys (what `herd certs` makes) and RSA keys alike. No RSA key exchange (no
/// forward secrecy), no CBC. Checked against the real `openssl` command-line tool on the other side.
@Suite("TLS 1.2 cipher suites", .serialized)
struct TLSCipherSuiteTests {
    /// Sends a line with `s_client -tls1_2 -cipher suite` to an echo server presenting `certificate`; returns
    /// the client's output and what the server logged.
    private func sClient(
        offering suite: String, to certificate: (certificate: String, key: String), trusting caFile: String
    ) async throws -> (output: String, log: LogCapture) {
        let server = TLSConfiguration(
            certificateChainFile: certificate.certificate, privateKeyFile: certificate.key, verifyPeer: false)
        let log = LogCapture()
        let transport = try TLSTransport(configuration: server, logger: log.logger, endpointName: "clients")
        var output = ""
        try await EchoServer.with(transport) { echo in
            output = try await OpenSSLClient.run(
                [
                    "s_client", "-connect", echo.endpoint.description, "-CAfile", caFile, "-tls1_2", "-cipher", suite,
                ],
                input: "hello\n", until: { $0.contains("HELLO") || $0.contains("alert") })
            if !output.contains("HELLO") { _ = await log.waitFor("refused") }
        }
        return (output, log)
    }

    /// A self-signed RSA certificate for 127.0.0.1, made with the `openssl` tool (`herd certs` makes ECDSA only).
    private func rsaCertificate(in pki: TLSTestPKI) async throws -> (certificate: String, key: String) {
        let paths = (certificate: pki.path("rsa.pem"), key: pki.path("rsa.key"))
        try await openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", paths.key, "-out", paths.certificate,
            "-days", "2", "-subj", "/CN=rsa", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        #expect(FileManager.default.fileExists(atPath: paths.certificate))
        return paths
    }

    @Test(arguments: [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
    ])
    func aListenerWithAnECDSAKeyAgreesToECDHEWithAnAEAD(suite: String) async throws {
        try await withTLSTestPKI { pki in
            let (output, _) = try await sClient(offering: suite, to: try pki.issue("Alford"), trusting: pki.caFile)
            #expect(output.contains("New, TLSv1.2, Cipher is \(suite)"), "\(output)")
            #expect(output.contains("HELLO"))
        }
    }

    @Test(arguments: ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"])
    func aListenerWithAnECDSAKeyRefusesCBC(suite: String) async throws {
        try await withTLSTestPKI { pki in
            let (output, log) = try await sClient(offering: suite, to: try pki.issue("Alford"), trusting: pki.caFile)
            #expect(output.contains("alert handshake failure"), "\(output)")
            #expect(!output.contains("HELLO"))
            let refusal = log.messages.first { $0.contains("refused") }
            #expect(refusal?.contains("no shared cipher") == true, "\(log.messages)")
        }
    }

    @Test(arguments: ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"])
    func aListenerWithAnRSAKeyAgreesToECDHEWithAnAEAD(suite: String) async throws {
        try await withTLSTestPKI { pki in
            let rsa = try await rsaCertificate(in: pki)
            let (output, _) = try await sClient(offering: suite, to: rsa, trusting: rsa.certificate)
            #expect(output.contains("New, TLSv1.2, Cipher is \(suite)"), "\(output)")
            #expect(output.contains("HELLO"))
        }
    }

    /// RSA key exchange (`AES128-GCM-SHA256`: an AEAD, but no forward secrecy) and CBC with ECDHE.
    @Test(arguments: ["AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "ECDHE-RSA-AES128-SHA256"])
    func aListenerWithAnRSAKeyRefusesRSAKeyExchangeAndCBC(suite: String) async throws {
        try await withTLSTestPKI { pki in
            let rsa = try await rsaCertificate(in: pki)
            let (output, log) = try await sClient(offering: suite, to: rsa, trusting: rsa.certificate)
            #expect(output.contains("alert handshake failure"), "\(output)")
            #expect(!output.contains("HELLO"))
            let refusal = log.messages.first { $0.contains("refused") }
            #expect(refusal?.contains("no shared cipher") == true, "\(log.messages)")
        }
    }

    /// The dialling side offers the same suites: a TLS 1.2 server that has only a CBC suite is refused, one
    /// with an AEAD suite is not.
    @Test(arguments: [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", true), ("ECDHE-ECDSA-CHACHA20-POLY1305", true),
        ("ECDHE-ECDSA-AES128-SHA256", false), ("ECDHE-ECDSA-AES256-SHA", false),
    ])
    func aDiallerOffersOnlyECDHEWithAnAEAD(suite: String, agrees: Bool) async throws {
        try await withTLSTestPKI { pki in
            let files = try pki.issue("Alford")
            let server = try await OpenSSLServer([
                "-cert", files.certificate, "-key", files.key, "-tls1_2", "-cipher", suite,
            ])
            defer { server.stop() }
            let dialler = try TLSTransport(configuration: .client(caFile: pki.caFile))
            if agrees {
                let peer = try await dialler.dialledPeer(server.endpoint)
                #expect(peer.identity == PeerIdentity(names: ["Alford"]))
                try await eventually("s_server to report the suite") { server.text.contains("CIPHER is \(suite)") }
            } else {
                let error = await #expect(throws: TLSError.self) { _ = try await dialler.dialledPeer(server.endpoint) }
                #expect("\(error.map(String.init(describing:)) ?? "")".contains("handshake failure"), "\(server.text)")
                try await eventually("s_server to report the refusal") { server.text.contains("no shared cipher") }
            }
        }
    }
}
