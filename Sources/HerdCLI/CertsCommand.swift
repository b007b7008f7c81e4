import ArgumentParser
import Foundation
import HerdKit
import Transports

/// `herd certs`: the first of the two steps to TLS. Makes a CA and one certificate per server of a config, with
/// exactly the file names the `tls` transport reads by default, so the second step is only `clients: tls` and
/// `peers: tls` in the config.
///
/// The CA's private key is the one file no server needs, and whoever holds it can mint a certificate for any
/// server name and so join the herd's peer links. So it goes to a directory of its own (mode 0700), outside
/// the one servers read and that gets copied to them.
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a CA and one TLS certificate per server of a config.",
        discussion: """
            Writes ca.pem, and for every server NAME.pem and NAME.key, each certificate naming the server \
            (DNS:NAME) and its host (IP or DNS), signed by the CA, good as a TLS server and client. Without \
            --out the files go where the tls transport looks by default: certs/ beside the config file \
            (./certs for the built-in herd). The CA's private key ca.key, which servers never need, goes to a \
            directory of its own, --ca-dir, by default the certificates' directory with -ca appended (certs-ca/ \
            beside certs/). An existing CA is reused, so adding a server to a herd keeps its CA; a ca.key left \
            in the certificates' directory by an older herd certs is moved to --ca-dir. See Docs/tls.md.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "Directory for the files servers read (created if missing). Default: certs/ beside the config file.")
    var out: String?

    @Option(
        help: """
            Directory for the CA's private key ca.key, kept apart from the servers' files (created with mode 0700 \
            if missing). Default: the --out directory with -ca appended, as certs-ca/ beside certs/.
            """)
    var caDir: String?

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
        let caDirectory = try caDir ?? Self.defaultCADirectory(for: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create \(directory): \(error.localizedDescription)")
        }
        func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

        let caCertificate = path("ca.pem")
        let caKey = (caDirectory as NSString).appendingPathComponent("ca.key")
        let apart = !Self.samePath(directory, caDirectory)
        let manager = FileManager.default
        // An older `herd certs` wrote ca.key beside the servers' files; move it out, or drop it with its CA.
        let leftOverKey = path("ca.key")
        if apart && manager.fileExists(atPath: leftOverKey) {
            if newCA {
                try write { try manager.removeItem(atPath: leftOverKey) }
                print("removed the old CA's key \(leftOverKey) (a new CA replaces it)")
            } else if !manager.fileExists(atPath: caKey) {
                try Self.createPrivateDirectory(caDirectory)
                try write { try manager.moveItem(atPath: leftOverKey, toPath: caKey) }
                print("moved \(leftOverKey) to \(caKey): servers do not need the CA's key")
            } else {
                // Two keys: which one is the CA's is not for this command to guess, so neither is deleted.
                print(
                    "warning: \(leftOverKey) is a CA key among the servers' files; this run uses \(caKey), so "
                        + "remove the other one unless you need it")
            }
        }

        let authority: TLSCertificateAuthority
        if !newCA && (manager.fileExists(atPath: caCertificate) || manager.fileExists(atPath: caKey)) {
            guard let certificate = try? String(contentsOfFile: caCertificate, encoding: .utf8) else {
                throw CommandFailure(
                    "there is a CA key \(caKey) but no readable CA certificate \(caCertificate); restore it, or pass "
                        + "--new-ca to make a new CA (every server then needs its new certificate)")
            }
            guard let key = try? String(contentsOfFile: caKey, encoding: .utf8) else {
                throw CommandFailure(
                    "there is a CA certificate \(caCertificate) but its key is not in \(caKey) (or cannot be read); "
                        + "pass --ca-dir DIR for the directory that holds ca.key, or --new-ca to make a new CA "
                        + "(every server then needs its new certificate)")
            }
            authority = TLSCertificateAuthority(certificatePEM: certificate, privateKeyPEM: key)
            print("using the CA in \(caCertificate), with its key \(caKey)")
        } else {
            authority = try TLSCertificateAuthority.create(commonName: "herd CA")
            try Self.createPrivateDirectory(caDirectory)
            try write { try authority.write(certificateTo: caCertificate, keyTo: caKey) }
            print("wrote the CA certificate \(caCertificate) and its private key \(caKey)")
            if apart {
                print(
                    "servers do not need \(caKey): keep it private and off the servers; herd certs reads it again "
                        + "to sign certificates for servers added later")
            } else {
                print("servers do not need \(caKey): keep it private, and do not copy it to the servers")
            }
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
        if apart { print("servers read \(directory) (ca.pem and their own NAME.pem and NAME.key); it holds no CA key") }
        print("now set `transport: {clients: tls, peers: tls}` in the config (see Docs/tls.md)")
    }

    /// Where the config's `tls` transports look: their `certs_dir` option, else `certs` beside the config.
    static func defaultDirectory(of config: HerdConfig) -> String {
        for component in [config.peerTransport, config.clientTransport] where component.name == "tls" {
            if let directory = try? component.options.path("certs_dir") { return directory }
        }
        return ConfigPaths.resolve("certs", against: config.baseDirectory)
    }

    /// Beside the servers' directory, named after it: `/srv/herd/certs` keeps its CA key in `/srv/herd/certs-ca`.
    static func defaultCADirectory(for directory: String) throws -> String {
        let absolute = URL(fileURLWithPath: directory).standardized.path
        guard absolute != "/" else {
            throw CommandFailure("the certificates cannot go to / without --ca-dir DIR for the CA's key")
        }
        return absolute + "-ca"
    }

    /// Whether two paths name the same directory (after `.`, `..` and symbolic links).
    private static func samePath(_ first: String, _ second: String) -> Bool {
        let firstURL = URL(fileURLWithPath: first).standardized.resolvingSymlinksInPath()
        let secondURL = URL(fileURLWithPath: second).standardized.resolvingSymlinksInPath()
        return firstURL.path == secondURL.path
    }

    /// Creates `directory` readable by its owner only (its parents as usual); an existing one is left as it is.
    private static func createPrivateDirectory(_ directory: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CommandFailure("\(directory) is not a directory") }
            return
        }
        let parent = (directory as NSString).deletingLastPathComponent
        do {
            if !parent.isEmpty { try manager.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        } catch {
            throw CommandFailure("cannot create \(parent): \(error.localizedDescription)")
        }
        // mkdir with the mode, not a chmod after: the directory is never open to others, even briefly.
        guard mkdir(directory, 0o700) == 0 else {
            throw CommandFailure("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
    }

    private func write(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            throw CommandFailure("cannot write the certificate files: \(error.localizedDescription)")
        }
    }
}
