import Foundation
import HerdKit
import HerdTesting
import Testing
import Transports

/// `herd certs` and the two steps to TLS, through the real executable: make the certificates, switch the
/// config's transports to `tls`, and the herd behaves as it did over TCP.
@Suite("herd certs and the two steps to TLS", .serialized)
struct TLSCertsCommandTests {
    private static let names = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]

    private func scratchDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herd-e2e-certs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs `openssl arguments...` to completion and returns its output.
    private func openssl(_ arguments: [String]) async throws -> String {
        try await OpenSSLClient.run(arguments, input: "", until: { _ in false }, timeout: .seconds(30))
    }

    @Test func certsMakesACAAndOneCertificatePerServerOfTheDefaultHerd() async throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/certs"
        let made = try await Subprocess.runHerd(["certs", "--out", out])
        #expect(made.status == 0, "\(made.stderr)")
        for name in Self.names {
            let verified = try await openssl(["verify", "-CAfile", out + "/ca.pem", out + "/\(name).pem"])
            #expect(verified.contains("\(name).pem: OK"), "\(verified)")
            let text = try await openssl(["x509", "-in", out + "/\(name).pem", "-noout", "-text"])
            #expect(text.contains("DNS:\(name), IP Address:127.0.0.1"), "\(text)")
            #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
            #expect(text.contains("CN = \(name)"))
            let keyMode = try FileManager.default.attributesOfItem(atPath: out + "/\(name).key")[.posixPermissions]
            #expect((keyMode as? NSNumber)?.intValue == 0o600)
        }
        let caKeyMode = try FileManager.default.attributesOfItem(atPath: out + "/ca.key")[.posixPermissions]
        #expect((caKeyMode as? NSNumber)?.intValue == 0o600)

        // Run again (a server was added, say): the CA is kept, so certificates already deployed stay valid.
        let caBefore = try String(contentsOfFile: out + "/ca.pem", encoding: .utf8)
        let again = try await Subprocess.runHerd(["certs", "--out", out])
        #expect(again.status == 0)
        #expect(again.stdout.contains("using the CA in"))
        #expect(try String(contentsOfFile: out + "/ca.pem", encoding: .utf8) == caBefore)
    }

    @Test func certsThenTLSInTheConfigGivesTheSameHerdOverTLS() async throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reservation = try PortReservation(count: 10)
        defer { reservation.release() }
        let ports = reservation.ports
        var yaml = "servers:\n"
        for (index, name) in Self.names.enumerated() {
            yaml += "  - {name: \(name), client_port: \(ports[index]), peer_port: \(ports[index + 5])}\n"
        }
        yaml += """
            links: [[Alford, Parker], [Alford, Welsh], [Bolden, Parker], [Bolden, Welsh], [Hamilton, Parker]]
            transport:
              clients: tcp
              peers: tcp
            log_dir: logs
            peer_links: {redial_initial_ms: 20, redial_max_ms: 200}

            """
        let config = directory + "/herd.yaml"
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)

        // Step 1: the certificates, where the tls transport looks by default (certs/ beside the config).
        let made = try await Subprocess.runHerd(["certs", "--config", config])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/certs/Hamilton.pem"))
        // Step 2: tcp becomes tls, nothing else.
        try yaml.replacingOccurrences(of: "clients: tcp", with: "clients: tls")
            .replacingOccurrences(of: "peers: tcp", with: "peers: tls")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let checked = try await Subprocess.runHerd(["check", "--config", config])
        #expect(checked.stdout.contains("transport: clients tls, peers tls"), "\(checked.stdout)\(checked.stderr)")

        let herd = try Subprocess(try Subprocess.herdExecutable(), ["up", "--config", config])
        defer { herd.forceKill() }
        let up = await herd.waitForOutput(timeout: .seconds(40)) { $0.contains("logs in") }
        try #require(up, "herd up did not start: \(herd.standardOutput.text) \(herd.standardError.text)")

        let client = try TLSTransport(configuration: .client(caFile: directory + "/certs/ca.pem"))
        func send(_ line: String, to index: Int) async throws -> String {
            try await HerdClient(endpoint: Endpoint(host: "127.0.0.1", port: ports[index]), transport: client)
                .exchange([line])
        }
        // Once every link is up over mutual TLS (each dialler logs it), an IAMAT at Alford reaches Hamilton.
        let links = [
            ("Alford", "Parker"), ("Alford", "Welsh"), ("Bolden", "Parker"), ("Bolden", "Welsh"),
            ("Hamilton", "Parker"),
        ]
        try await eventually("every peer link to open", timeout: .seconds(40), poll: .milliseconds(50)) {
            links.allSatisfy { first, second in
                LogFiles.line(atPath: directory + "/logs/\(first).log", containing: ["peer link to \(second) opened"])
                    != nil
                    && LogFiles.line(
                        atPath: directory + "/logs/\(second).log", containing: ["peer link to \(first) opened"]) != nil
            }
        }
        let reply = try await send(Wire.iamat("kiwi.cs.ucla.edu"), to: 0)
        let atLine = try Wire.expectATReply(reply, server: "Alford", client: "kiwi.cs.ucla.edu")
        var places = ""
        try await eventually("Hamilton to learn the report") {
            places = try await send("WHATSAT kiwi.cs.ucla.edu 10 5", to: 2)
            return places.hasPrefix(atLine + "\n")
        }
        #expect(places.hasPrefix(atLine + "\n"), "\(places.prefix(300))")
        #expect(places.hasSuffix("}\n\n"))

        // `herd send --tls` talks to it too (finding the CA with --ca).
        let sent = try await Subprocess.runHerd([
            "send", "--tls", "--ca", directory + "/certs/ca.pem", "127.0.0.1:\(ports[3])",
            "WHATSAT kiwi.cs.ucla.edu 10 1",
        ])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.hasPrefix("AT Alford "), "\(sent.stdout.prefix(300))")
        // Without the CA it refuses the server's certificate and says what to do.
        let unverified = try await Subprocess.runHerd(["send", "--tls", "127.0.0.1:\(ports[3])", "WHATSAT x 10 1"])
        #expect(unverified.status != 0)
        #expect(unverified.stderr.contains("certificate verify failed"), "\(unverified.stderr)")
        #expect(unverified.stderr.contains("--ca"))

        herd.terminate()
        #expect(await herd.waitForExit(timeout: .seconds(20)) == 0)
        let log = try String(contentsOfFile: directory + "/logs/Parker.log", encoding: .utf8)
        #expect(log.contains("peer link from Alford opened"))
        // No peer link was ever refused (a "Connection refused" while a neighbour starts is no refusal); the one
        // refusal is the CA-less `herd send` above, with its reason.
        let refusals = log.split(separator: "\n").filter {
            $0.contains("peers endpoint refused") || ($0.contains("peer link") && $0.contains(" refused: "))
        }
        #expect(refusals.isEmpty, "\(refusals)")
        #expect(log.contains("clients endpoint refused: TLS handshake failed: tlsv1 alert unknown ca"), "\(log)")
    }
}
