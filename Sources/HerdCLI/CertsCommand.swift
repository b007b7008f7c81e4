import ArgumentParser
import Foundation
import HerdKit
import Transports

/// `herd certs`: the first of the two steps to TLS. Makes a CA and one certificate per server of a config, with
/// exactly the file names the `tls` transport reads by default, so the second step is only `clients: tls` and
/// `peers: tls` in the config.
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a CA and one TLS certificate per server of a config.",
        discussion: """
            Writes ca.pem and ca.key, and for every server NAME.pem and NAME.key, each certificate naming the \
            server (DNS:NAME) and its host (IP or DNS), signed by the CA, good as a TLS server and client. \
            Without --out the files go where the tls transport looks by default: certs/ beside the config file \
            (./certs for the built-in herd). An existing ca.pem and ca.key there are reused, so adding a server \
            to a herd keeps its CA. See Docs/tls.md.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "Directory for the files (created if missing). Default: certs/ beside the config file.")
    var out: String?

    @Option(help: "Days the server certificates are valid.")
    var days: Int = 825

    @Flag(help: "Make a new CA even if the directory already has one (every server then needs its new certificate).")
    var newCA = false

    func validate() throws {
        guard (1...36_500).contains(days) else { throw ValidationError("--days must be between 1 and 36500") }
    }

    func run() async throws {
        let herdConfig = try config.load()
        let directory = out ?? Self.defaultDirectory(of: herdConfig)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create \(directory): \(error.localizedDescription)")
        }
        func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

        let authority: TLSCertificateAuthority
        let caCertificate = path("ca.pem")
        let caKey = path("ca.key")
        let manager = FileManager.default
        if !newCA && (manager.fileExists(atPath: caCertificate) || manager.fileExists(atPath: caKey)) {
            guard let certificate = try? String(contentsOfFile: caCertificate, encoding: .utf8),
                let key = try? String(contentsOfFile: caKey, encoding: .utf8)
            else {
                throw CommandFailure(
                    "\(directory) has only one of ca.pem and ca.key (or cannot read it); restore the other, or "
                        + "pass --new-ca to make a new CA (every server then needs its new certificate)")
            }
            authority = TLSCertificateAuthority(certificatePEM: certificate, privateKeyPEM: key)
            print("using the CA in \(caCertificate)")
        } else {
            authority = try TLSCertificateAuthority.create(commonName: "herd CA")
            try write { try authority.write(certificateTo: caCertificate, keyTo: caKey) }
            print("wrote \(caCertificate) and \(caKey) (keep ca.key private; it signs new certificates)")
        }
        for server in herdConfig.servers {
            let issued: TLSCertificateAuthority.Issued
            do {
                issued = try authority.issueServerCertificate(
                    name: server.name, host: server.host, validity: .days(days))
            } catch {
                throw CommandFailure("\(server.name): \(error)")
            }
            try write { try issued.write(certificateTo: path("\(server.name).pem"), keyTo: path("\(server.name).key")) }
            print(
                "wrote \(path("\(server.name).pem")) and .key for \(server.name) (DNS:\(server.name), \(server.host))")
        }
        print("now set `transport: {clients: tls, peers: tls}` in the config (see Docs/tls.md)")
    }

    /// Where the config's `tls` transports look: their `certs_dir` option, else `certs` beside the config.
    static func defaultDirectory(of config: HerdConfig) -> String {
        for component in [config.peerTransport, config.clientTransport] where component.name == "tls" {
            if let directory = try? component.options.path("certs_dir") { return directory }
        }
        return ConfigPaths.resolve("certs", against: config.baseDirectory)
    }

    private func write(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            throw CommandFailure("cannot write the certificate files: \(error.localizedDescription)")
        }
    }
}
