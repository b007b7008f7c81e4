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

    private func mode(_ path: String) throws -> Int? {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
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
            #expect(try mode(out + "/\(name).key") == 0o600)
        }
        // The CA's key is not among the files servers read: it has a directory of its own, for its owner only.
        #expect(!FileManager.default.fileExists(atPath: out + "/ca.key"))
        #expect(try mode(directory + "/certs-ca") == 0o700)
        #expect(try mode(directory + "/certs-ca/ca.key") == 0o600)
        #expect(made.stdout.contains("\(directory)/certs-ca/ca.key"), "\(made.stdout)")
        #expect(made.stdout.contains("servers do not need"), "\(made.stdout)")
        let caKey = try String(contentsOfFile: directory + "/certs-ca/ca.key", encoding: .utf8)
        let checked = try await openssl(["pkey", "-in", directory + "/certs-ca/ca.key", "-pubout"])
        let caPublic = try await openssl(["x509", "-in", out + "/ca.pem", "-noout", "-pubkey"])
        #expect(checked.contains("BEGIN PUBLIC KEY") && checked == caPublic, "\(checked) \(caPublic)")

        // Run again (a server was added, say): the CA and its key are found and kept, so certificates already
        // deployed stay valid.
        let caBefore = try String(contentsOfFile: out + "/ca.pem", encoding: .utf8)
        let again = try await Subprocess.runHerd(["certs", "--out", out])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("using the CA in"))
        #expect(try String(contentsOfFile: out + "/ca.pem", encoding: .utf8) == caBefore)
        #expect(try String(contentsOfFile: directory + "/certs-ca/ca.key", encoding: .utf8) == caKey)
        #expect(!FileManager.default.fileExists(atPath: out + "/ca.key"))
    }

    @Test func addingAServerLaterSignsItWithTheSameCAKeptApart() async throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/herd.yaml"
        try "servers:\n  - {name: Alford, client_port: 12000, peer_port: 12100}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let first = try await Subprocess.runHerd(["certs", "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        try
            "servers:\n  - {name: Alford, client_port: 12000, peer_port: 12100}\n  - {name: Bolden, client_port: 12001, peer_port: 12101}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let second = try await Subprocess.runHerd(["certs", "--config", config])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("using the CA in \(directory)/certs/ca.pem"), "\(second.stdout)")
        for name in ["Alford", "Bolden"] {
            let verified = try await openssl([
                "verify", "-CAfile", directory + "/certs/ca.pem", directory + "/certs/\(name).pem",
            ])
            #expect(verified.contains("\(name).pem: OK"), "\(verified)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/certs/ca.key"))
        #expect(FileManager.default.fileExists(atPath: directory + "/certs-ca/ca.key"))

        // --ca-dir puts the key elsewhere; without it there, the CA cannot sign and nothing is overwritten.
        let elsewhere = directory + "/vault/herd-ca"
        let apart = try await Subprocess.runHerd([
            "certs", "--config", config, "--out", directory + "/other", "--ca-dir", elsewhere,
        ])
        #expect(apart.status == 0, "\(apart.stderr)")
        #expect(try mode(elsewhere) == 0o700)
        #expect(try mode(elsewhere + "/ca.key") == 0o600)
        #expect(!FileManager.default.fileExists(atPath: directory + "/other/ca.key"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/other-ca"))
        try FileManager.default.removeItem(atPath: directory + "/other/Alford.pem")
        let keyless = try await Subprocess.runHerd(["certs", "--config", config, "--out", directory + "/other"])
        #expect(keyless.status != 0)
        #expect(keyless.stderr.contains("--ca-dir"), "\(keyless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/other/Alford.pem"))
    }

    /// A directory made by an older `herd certs` has ca.key beside the servers' files: it is moved out of it.
    @Test func aCAKeyAmongTheServersFilesIsMovedOut() async throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/certs"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let authority = try TLSCertificateAuthority.create(commonName: "old herd CA")
        try authority.write(certificateTo: out + "/ca.pem", keyTo: out + "/ca.key")
        let made = try await Subprocess.runHerd(["certs", "--out", out])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("moved \(out)/ca.key to \(directory)/certs-ca/ca.key"), "\(made.stdout)")
        #expect(made.stdout.contains("using the CA in"), "\(made.stdout)")
        #expect(!FileManager.default.fileExists(atPath: out + "/ca.key"))
        #expect(try String(contentsOfFile: directory + "/certs-ca/ca.key", encoding: .utf8) == authority.privateKeyPEM)
        #expect(try String(contentsOfFile: out + "/ca.pem", encoding: .utf8) == authority.certificatePEM)
        let verified = try await openssl(["verify", "-CAfile", out + "/ca.pem", out + "/Alford.pem"])
        #expect(verified.contains("Alford.pem: OK"), "\(verified)")
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
        // The servers read certs/, which holds no CA key: the herd below runs without it.
        #expect(!FileManager.default.fileExists(atPath: directory + "/certs/ca.key"))
        #expect(FileManager.default.fileExists(atPath: directory + "/certs-ca/ca.key"))
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
