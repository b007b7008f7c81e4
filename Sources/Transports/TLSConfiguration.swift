import Foundation
import HerdKit

/// What a TLS endpoint presents and what it asks of the other side: one value for listening and dialling.
///
/// Paths are used as given; ``init(options:serverName:kind:)`` reads them from a herd config, with the files
/// `herd certs` writes as defaults, so switching a config to TLS needs no more than `clients: tls`.
public struct TLSConfiguration: Sendable, Hashable {
    /// A TLS protocol version. TLS 1.2 is the floor: older versions are refused.
    public enum Version: String, Sendable, Hashable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// PEM certificate chain presented to the other side: this side's certificate first, then intermediates.
    public var certificateChainFile: String?
    /// PEM private key of the certificate.
    public var privateKeyFile: String?
    /// PEM bundle of CA certificates that the other side's certificate must chain to; nil uses the system's.
    public var caFile: String?
    /// Whether the other side must present a certificate that chains to ``caFile``. A listener then refuses
    /// clients without one; a dialler refuses a server whose certificate does not verify.
    public var verifyPeer: Bool
    /// When dialling, also require the server's certificate to name the host dialled (a DNS or IP
    /// subjectAltName), as a browser does. Peer links check the neighbour's name instead.
    public var verifyHostname: Bool
    /// Lowest version accepted. TLS 1.3 is always preferred when both sides have it.
    public var minimumVersion: Version
    /// Highest version offered; nil means the newest OpenSSL has (TLS 1.3). For tests and interop checks.
    public var maximumVersion: Version?
    /// A connection whose handshake has not finished by then is closed, so a silent client holds no slot.
    public var handshakeTimeout: Duration

    public init(
        certificateChainFile: String? = nil, privateKeyFile: String? = nil, caFile: String? = nil,
        verifyPeer: Bool, verifyHostname: Bool = false, minimumVersion: Version = .tls12,
        maximumVersion: Version? = nil, handshakeTimeout: Duration = .seconds(10)
    ) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.caFile = caFile
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.handshakeTimeout = handshakeTimeout
    }

    /// A client of a herd's TLS client endpoint (`herd send --tls`): verifies the server's certificate and the
    /// host it was dialled by, and presents a certificate only when given one.
    public static func client(caFile: String?, certificateChainFile: String? = nil, privateKeyFile: String? = nil)
        -> TLSConfiguration
    {
        TLSConfiguration(
            certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile, caFile: caFile,
            verifyPeer: true, verifyHostname: true)
    }

    /// The option keys of the `tls` transport in a herd config.
    public static let optionKeys: Set<String> = [
        "certs_dir", "certificate", "key", "ca", "verify_peer", "min_version", "handshake_timeout_seconds",
    ]

    /// Reads the `tls` transport's options for the server `serverName`.
    ///
    /// Every option is optional: certificate `<certs_dir>/<server>.pem`, key `<certs_dir>/<server>.key`,
    /// CA `<certs_dir>/ca.pem`, with `certs_dir` defaulting to `certs` beside the config file. Peers verify
    /// each other (mutual TLS) unless `verify_peer: false`; clients need no certificate unless `verify_peer: true`.
    public init(options: ConfigOptions, serverName: String, kind: HerdRegistry.EndpointKind) throws(ConfigError) {
        try options.allowOnly(Self.optionKeys)
        let directory = try options.path("certs_dir") ?? ConfigPaths.resolve("certs", against: options.baseDirectory)
        func inDirectory(_ file: String) -> String { ConfigPaths.resolve(file, against: directory) }
        let minimum: Version
        if let text = try options.string("min_version") {
            guard let version = Version(rawValue: text) else {
                throw options.error("min_version", "expected 1.2 or 1.3, got '\(text)'")
            }
            minimum = version
        } else {
            minimum = .tls12
        }
        let timeout = try options.int("handshake_timeout_seconds", in: 1...300) ?? 10
        let verifyPeer = try options.bool("verify_peer") ?? (kind == .peers)
        // The CA is needed to verify the other side. Without verification the default one is used only if it is
        // there, so a client endpoint with a certificate from elsewhere needs no herd CA.
        var ca = try options.path("ca")
        if ca == nil {
            let standard = inDirectory("ca.pem")
            if verifyPeer || FileManager.default.fileExists(atPath: standard) { ca = standard }
        }
        self.init(
            certificateChainFile: try options.path("certificate") ?? inDirectory("\(serverName).pem"),
            privateKeyFile: try options.path("key") ?? inDirectory("\(serverName).key"),
            caFile: ca,
            verifyPeer: verifyPeer,
            minimumVersion: minimum,
            handshakeTimeout: .seconds(timeout))
    }

    /// The config error for a file problem found while building the transport: it names the option key of
    /// the file at fault, and says how to make the default files when that is what is missing.
    func configError(for error: TLSError, options: ConfigOptions) -> ConfigError {
        let command = options.file.hasPrefix("<") ? "herd certs" : "herd certs --config \(options.file)"
        let hint = " (make a CA and a certificate per server with `\(command)`; see Docs/tls.md)"
        switch error {
        case .unreadableFile(let role, _, _):
            let key = role == "CA" ? "ca" : role == "private key" ? "key" : "certificate"
            return options.error(key, error.description + (options.values[key] == nil ? hint : ""))
        case .invalidFile(let role, _, _):
            return options.error(role == "CA" ? "ca" : role == "private key" ? "key" : "certificate", error.description)
        case .keyMismatch:
            return options.error("key", error.description)
        case .certificateNotValidNow:
            return options.error("certificate", error.description)
        case .noCertificate:
            return options.error("certificate", error.description)
        default:
            return options.error("min_version", error.description)
        }
    }
}
