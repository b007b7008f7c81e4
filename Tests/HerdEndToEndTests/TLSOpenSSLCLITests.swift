import Foundation
import HerdTesting
import Testing

/// The real OpenSSL command-line client against a herd TLS client endpoint: a handshake it accepts, the
/// protocol's replies through it, the TLS 1.2 floor, and the TLS 1.2 cipher suites (ECDHE with an AEAD only).
@Suite("openssl s_client against a herd", .serialized)
struct TLSOpenSSLCLITests {
    @Test(arguments: [[], ["-tls1_2"], ["-tls1_3"]])
    func sClientCompletesAHandshakeAndGetsAnATReply(versionFlags: [String]) async throws {
        try await withTestHerd(starting: ["Alford"], security: .tls(clients: true, peers: true)) { herd in
            let port = try await herd.endpoints("Alford").clients.port
            let output = try await OpenSSLClient.run(
                ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", herd.caFile, "-verify_return_error"]
                    + versionFlags,
                input: Wire.iamat("kiwi.cs.ucla.edu") + "\n",
                until: { $0.contains("\nAT Alford ") && $0.hasSuffix("\n") })
            #expect(output.contains("Verify return code: 0 (ok)"), "\(output)")
            // Without a version flag, TLS 1.3 is what both sides prefer.
            let expected = versionFlags == ["-tls1_2"] ? "TLSv1.2" : "TLSv1.3"
            #expect(output.contains("New, \(expected), Cipher is"), "\(output)")
            let atLine = output.split(separator: "\n").first { $0.hasPrefix("AT Alford ") }
            let line = try #require(atLine, "no AT line in: \(output)")
            try Wire.expectATReply(String(line) + "\n", server: "Alford", client: "kiwi.cs.ucla.edu")
            // And the server saw a real client, not a refusal.
            try await herd.waitForLogLine("Alford", containing: ["< IAMAT kiwi.cs.ucla.edu"])
        }
    }

    @Test func aTLS11OnlyClientIsRefusedByTheServer() async throws {
        try await withTestHerd(starting: ["Alford"], security: .tls(clients: true, peers: true)) { herd in
            let port = try await herd.endpoints("Alford").clients.port
            // SECLEVEL=0 lets the client itself offer TLS 1.1, so the refusal is the server's.
            let output = try await OpenSSLClient.run(
                [
                    "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", herd.caFile, "-tls1_1", "-cipher",
                    "DEFAULT:@SECLEVEL=0",
                ],
                input: Wire.iamat("kiwi.cs.ucla.edu") + "\n",
                until: { $0.contains("alert") || $0.contains("AT Alford") })
            #expect(output.contains("alert protocol version"), "\(output)")
            #expect(!output.contains("AT Alford"))
            try await herd.waitForLogLine("Alford", containing: ["clients endpoint refused", "unsupported protocol"])
            // The server still serves a TLS 1.2+ client.
            try await herd.report("after", at: "Alford")
        }
    }

    /// The certificates are ECDSA (as `herd certs` makes them), so these are every TLS 1.2 suite a herd agrees to.
    @Test(arguments: [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
    ])
    func aTLS12ClientGetsAnATReplyOverECDHEWithAnAEAD(suite: String) async throws {
        try await withTestHerd(starting: ["Alford"], security: .tls(clients: true, peers: true)) { herd in
            let port = try await herd.endpoints("Alford").clients.port
            let output = try await OpenSSLClient.run(
                [
                    "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", herd.caFile, "-verify_return_error",
                    "-tls1_2", "-cipher", suite,
                ],
                input: Wire.iamat("kiwi.cs.ucla.edu") + "\n",
                until: { ($0.contains("\nAT Alford ") && $0.hasSuffix("\n")) || $0.contains("alert") })
            #expect(output.contains("New, TLSv1.2, Cipher is \(suite)"), "\(output)")
            #expect(output.contains("\nAT Alford "), "\(output)")
        }
    }

    /// CBC suites, with ECDHE and ECDSA as the herd's certificates want, which OpenSSL's defaults would accept.
    @Test(arguments: ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256"])
    func aTLS12ClientOfferingOnlyCBCIsRefused(suite: String) async throws {
        try await withTestHerd(starting: ["Alford"], security: .tls(clients: true, peers: true)) { herd in
            let port = try await herd.endpoints("Alford").clients.port
            let output = try await OpenSSLClient.run(
                ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", herd.caFile, "-tls1_2", "-cipher", suite],
                input: Wire.iamat("kiwi.cs.ucla.edu") + "\n",
                until: { $0.contains("alert") || $0.contains("AT Alford") })
            #expect(output.contains("alert handshake failure"), "\(output)")
            #expect(!output.contains("AT Alford"))
            try await herd.waitForLogLine("Alford", containing: ["clients endpoint refused", "no shared cipher"])
            // The server still serves a client with an agreeable suite.
            try await herd.report("after", at: "Alford")
        }
    }
}
