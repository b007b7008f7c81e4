import Foundation
import HerdKit
import Testing
import Transports

@Suite("TLS configuration")
struct TLSConfigurationTests {
    /// The `transport.peers` (or clients) options of a one-server config written as YAML in `directory`.
    private func options(_ yamlOptions: String?, kind: String = "peers", baseDirectory: String) throws -> HerdConfig {
        let transport = yamlOptions.map { "{name: tls, options: {\($0)}}" } ?? "tls"
        let yaml = """
            servers:
              - {name: Alford, client_port: 0, peer_port: 0}
            transport:
              \(kind): \(transport)
            """
        return try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: baseDirectory)
    }

    private var registry: HerdRegistry {
        var registry = HerdRegistry.core
        TLSTransport.register(in: &registry)
        return registry
    }

    /// Builds the `tls` transport of `config` as a server would, returning the config error it throws, if any.
    private func buildError(_ config: HerdConfig, kind: HerdRegistry.EndpointKind = .peers) -> ConfigError? {
        let component = kind == .peers ? config.peerTransport : config.clientTransport
        let context = HerdRegistry.Context(
            options: component.options, serverName: "Alford", config: config, logger: LogCapture().logger)
        do {
            _ = try registry.transports["tls"]!(context, kind)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            Issue.record("not a ConfigError: \(error)")
            return nil
        }
    }

    @Test func withNoOptionsTheFilesOfHerdCertsBesideTheConfigAreUsed() throws {
        let config = try options(nil, baseDirectory: "/etc/herd")
        let peers = try TLSConfiguration(options: config.peerTransport.options, serverName: "Alford", kind: .peers)
        #expect(peers.certificateChainFile == "/etc/herd/certs/Alford.pem")
        #expect(peers.privateKeyFile == "/etc/herd/certs/Alford.key")
        #expect(peers.caFile == "/etc/herd/certs/ca.pem")
        #expect(peers.verifyPeer)
        #expect(peers.minimumVersion == .tls12)
        let clients = try TLSConfiguration(
            options: config.clientTransport.options, serverName: "Alford", kind: .clients)
        #expect(!clients.verifyPeer)
        // Clients are not verified, so the CA is optional for them: no ca.pem there, no CA.
        #expect(clients.caFile == nil)
        #expect(clients.certificateChainFile == "/etc/herd/certs/Alford.pem")
    }

    @Test func theBuiltInHerdLooksInCertsUnderTheWorkingDirectory() throws {
        let options = ConfigOptions(keyPath: "transport.peers.options", file: "<built-in>", baseDirectory: "")
        let configuration = try TLSConfiguration(options: options, serverName: "Parker", kind: .peers)
        #expect(configuration.certificateChainFile == "certs/Parker.pem")
        #expect(configuration.caFile == "certs/ca.pem")
    }

    @Test func everyOptionIsRead() throws {
        let config = try options(
            "certs_dir: keys, certificate: /a/me.crt, key: me.key, ca: /a/roots.pem, verify_peer: false, "
                + "min_version: 1.3, handshake_timeout_seconds: 3",
            baseDirectory: "/srv")
        let peers = try TLSConfiguration(options: config.peerTransport.options, serverName: "Alford", kind: .peers)
        #expect(peers.certificateChainFile == "/a/me.crt")
        #expect(peers.privateKeyFile == "/srv/me.key")
        #expect(peers.caFile == "/a/roots.pem")
        #expect(!peers.verifyPeer)
        #expect(peers.minimumVersion == .tls13)
        #expect(peers.handshakeTimeout == .seconds(3))

        let onlyDirectory = try options("certs_dir: keys", baseDirectory: "/srv")
        let inKeys = try TLSConfiguration(
            options: onlyDirectory.peerTransport.options, serverName: "Alford", kind: .peers)
        #expect(inKeys.certificateChainFile == "/srv/keys/Alford.pem")
    }

    @Test func badOptionsNameTheirKey() throws {
        for (yaml, key) in [
            ("min_version: 1.1", "transport.peers.options.min_version"),
            ("verify_peer: maybe", "transport.peers.options.verify_peer"),
            ("certificat: x.pem", "transport.peers.options.certificat"),
        ] {
            let config = try options(yaml, baseDirectory: "/srv")
            let error = #expect(throws: ConfigError.self) {
                _ = try TLSConfiguration(options: config.peerTransport.options, serverName: "Alford", kind: .peers)
            }
            #expect(error?.key == key)
            #expect(error?.line == 4)
        }
    }

    @Test func aMissingCertificateIsAStartUpErrorThatSaysHowToMakeOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-none-\(UUID())").path
        let error = buildError(try options(nil, baseDirectory: directory))
        #expect(error?.key == "transport.peers.options.certificate")
        #expect(error?.reason.contains("\(directory)/certs/Alford.pem") == true)
        #expect(error?.reason.contains("no such file") == true)
        #expect(error?.reason.contains("herd certs") == true)
    }

    @Test func fileProblemsNameTheFileAndTheKey() async throws {
        try await withTLSTestPKI { pki in
            try pki.issue("Alford")
            try pki.issue("Parker")
            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: pki.path("junk.pem")))
            try pki.issue("Old", validity: TLSTestPKI.expired)
            let future = TLSCertificateAuthority.Validity(
                notBefore: Date(timeIntervalSinceNow: 86_400), notAfter: Date(timeIntervalSinceNow: 2 * 86_400))
            try pki.issue("Early", validity: future)
            let dir = pki.directory
            for (yaml, key, words) in [
                ("certs_dir: \(dir), key: Parker.key", "key", ["does not match", "Parker.key", "Alford.pem"]),
                ("certs_dir: \(dir), certificate: junk.pem", "certificate", ["junk.pem", "not usable"]),
                ("certs_dir: \(dir), ca: junk.pem", "ca", ["junk.pem", "CA"]),
                ("certs_dir: \(dir), ca: nowhere.pem", "ca", ["nowhere.pem", "no such file"]),
                ("certs_dir: \(dir), key: junk.pem", "key", ["junk.pem", "not usable"]),
                ("certs_dir: \(dir), certificate: Old.pem, key: Old.key", "certificate", ["Old.pem", "expired on"]),
                ("certs_dir: \(dir), certificate: Early.pem, key: Early.key", "certificate", ["not valid before"]),
            ] {
                let error = buildError(try options(yaml, baseDirectory: dir))
                #expect(error?.key == "transport.peers.options.\(key)", "\(yaml): \(String(describing: error))")
                for word in words {
                    #expect(error?.reason.contains(word) == true, "\(yaml): \(String(describing: error))")
                }
            }
            #expect(buildError(try options("certs_dir: \(dir)", baseDirectory: dir)) == nil)
        }
    }
}
