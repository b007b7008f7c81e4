import COpenSSL
import Foundation

/// One configured OpenSSL `SSL_CTX` for one role, built once per transport; each connection gets its own `SSL`
/// from it. All file problems surface here, at start-up, rather than on the first connection.
final class TLSContext: @unchecked Sendable {
    // @unchecked Sendable: `context` is fully configured in `init` and never changed afterwards; OpenSSL
    // documents creating `SSL` objects (`SSL_new`) from a shared, no-longer-modified `SSL_CTX` as thread-safe
    // (its reference count is atomic). The pointer is freed once, in `deinit`, when no connection holds it.

    enum Role: Sendable {
        /// Accepts connections (`TLS_server_method`).
        case server
        /// Dials (`TLS_client_method`).
        case client
    }

    let role: Role
    let configuration: TLSConfiguration
    private let context: OpaquePointer

    init(configuration: TLSConfiguration, role: Role) throws(TLSError) {
        self.role = role
        self.configuration = configuration
        ERR_clear_error()
        guard let context = SSL_CTX_new(role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw .configurationFailed(TLSError.drainErrorQueue())
        }
        self.context = context
        try configure()
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// When the context's own certificate expires, if it has one (for the expiry metric).
    var certificateExpiry: Date? {
        guard let leaf = SSL_CTX_get0_certificate(context) else { return nil }
        var days: Int32 = 0
        var seconds: Int32 = 0
        guard ASN1_TIME_diff(&days, &seconds, nil, X509_get0_notAfter(leaf)) == 1 else { return nil }
        return Date(timeIntervalSinceNow: Double(days) * 86_400 + Double(seconds))
    }

    private func configure() throws(TLSError) {
        let settings = configuration
        guard herd_SSL_CTX_set_min_proto_version(context, Self.protocolNumber(settings.minimumVersion)) == 1 else {
            throw .configurationFailed(TLSError.drainErrorQueue())
        }
        if let maximum = settings.maximumVersion {
            guard herd_SSL_CTX_set_max_proto_version(context, Self.protocolNumber(maximum)) == 1 else {
                throw .configurationFailed(TLSError.drainErrorQueue())
            }
        }
        herd_SSL_CTX_set_herd_options(context)
        // TLS 1.2 suites: forward secrecy (ECDHE) and an AEAD cipher only. TLS 1.3 suites (set apart, with
        // SSL_CTX_set_ciphersuites) are all AEAD with forward secrecy already, so OpenSSL's defaults stay.
        ERR_clear_error()
        guard SSL_CTX_set_cipher_list(context, Self.tls12CipherList) == 1 else {
            throw .configurationFailed(
                "no usable TLS 1.2 cipher in '\(Self.tls12CipherList)': \(TLSError.drainErrorQueue())")
        }
        _ = herd_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
        // Every connection is a fresh handshake: no session cache, no TLS 1.3 tickets to send or keep.
        _ = herd_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        if role == .server { _ = SSL_CTX_set_num_tickets(context, 0) }

        switch (settings.certificateChainFile, settings.privateKeyFile) {
        case (let certificate?, let key?):
            try loadIdentity(certificate: certificate, key: key)
        case (nil, nil):
            if role == .server { throw .noCertificate }
        case (let certificate?, nil):
            throw .configurationFailed("the certificate \(certificate) needs its private key as well")
        case (nil, let key?):
            throw .configurationFailed("the private key \(key) needs its certificate as well")
        }

        if let ca = settings.caFile {
            try Self.checkReadable(ca, role: "CA")
            ERR_clear_error()
            guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                throw .invalidFile(role: "CA", path: ca, reason: TLSError.drainErrorQueue())
            }
            if role == .server && settings.verifyPeer {
                // Tells clients which CA their certificate must come from.
                if let names = SSL_load_client_CA_file(ca) { SSL_CTX_set_client_CA_list(context, names) }
            }
        } else if settings.verifyPeer {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .configurationFailed(TLSError.drainErrorQueue())
            }
        }

        var mode = SSL_VERIFY_NONE
        if settings.verifyPeer {
            mode = role == .server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER
        }
        SSL_CTX_set_verify(context, mode, nil)
        ERR_clear_error()
    }

    /// Loads this side's certificate chain and key, and checks that they belong together and are valid now.
    private func loadIdentity(certificate: String, key: String) throws(TLSError) {
        try Self.checkReadable(certificate, role: "certificate")
        try Self.checkReadable(key, role: "private key")
        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
            throw .invalidFile(role: "certificate", path: certificate, reason: TLSError.drainErrorQueue())
        }
        ERR_clear_error()
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
            let reason = TLSError.drainErrorQueue()
            // OpenSSL also fails here when a readable key belongs to another certificate; say which it was.
            if Self.keyParses(key) { throw .keyMismatch(certificate: certificate, key: key, reason: reason) }
            throw .invalidFile(role: "private key", path: key, reason: reason)
        }
        ERR_clear_error()
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .keyMismatch(certificate: certificate, key: key, reason: TLSError.drainErrorQueue())
        }
        if let leaf = SSL_CTX_get0_certificate(context) {
            if X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0 {
                throw .certificateNotValidNow(
                    path: certificate, reason: "expired on \(Self.describe(X509_get0_notAfter(leaf)))")
            }
            if X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0 {
                throw .certificateNotValidNow(
                    path: certificate, reason: "is not valid before \(Self.describe(X509_get0_notBefore(leaf)))")
            }
        }
    }

    /// A new `SSL` for one connection. When dialling `host` with ``TLSConfiguration/verifyHostname``, the
    /// server's certificate must also name that host in its subjectAltName (a DNS entry, or an IP entry for a
    /// numeric host); its common name does not count.
    func makeSSL(dialling host: String? = nil) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let ssl = SSL_new(context) else { throw .configurationFailed(TLSError.drainErrorQueue()) }
        if role == .client, let host {
            let numeric = Self.isIPAddress(host)
            if !numeric { _ = herd_SSL_set_tlsext_host_name(ssl, host) }
            if configuration.verifyHostname {
                // subjectAltName only: without this flag OpenSSL falls back to the subject's common name when
                // a certificate has no DNS subjectAltName, which RFC 9525 and browsers no longer do.
                SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT))
                let accepted =
                    numeric ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host)
                guard accepted == 1 else {
                    SSL_free(ssl)
                    throw .configurationFailed("cannot verify the host name '\(host)': \(TLSError.drainErrorQueue())")
                }
            }
        }
        return ssl
    }

    /// The TLS 1.2 cipher suites both roles offer, most preferred first (the server's order wins): ECDHE key
    /// exchange with AES-GCM or ChaCha20-Poly1305, for ECDSA keys (what `herd certs` makes) and RSA keys. No RSA
    /// key exchange (no forward secrecy), no CBC (padding oracles), no DHE (slow, and needs parameters).
    static let tls12CipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    static func protocolNumber(_ version: TLSConfiguration.Version) -> Int32 {
        switch version {
        case .tls12: TLS1_2_VERSION
        case .tls13: TLS1_3_VERSION
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Fails with the system's reason when a file is missing or unreadable, before OpenSSL's vaguer message.
    static func checkReadable(_ path: String, role: String) throws(TLSError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .unreadableFile(role: role, path: path, reason: "no such file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadableFile(role: role, path: path, reason: "permission denied")
        }
    }

    private static func keyParses(_ path: String) -> Bool {
        guard let bio = BIO_new_file(path, "r") else { return false }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            ERR_clear_error()
            return false
        }
        EVP_PKEY_free(key)
        return true
    }

    /// `Jan  2 03:04:05 2025 GMT`, as OpenSSL prints certificate times.
    static func describe(_ time: UnsafePointer<ASN1_TIME>?) -> String {
        guard let time, let bio = BIO_new(BIO_s_mem()) else { return "an unknown date" }
        defer { BIO_free(bio) }
        guard ASN1_TIME_print(bio, time) == 1 else { return "an unknown date" }
        var data: UnsafeMutablePointer<CChar>?
        let length = herd_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "an unknown date" }
        return String(
            decoding: UnsafeRawBufferPointer(start: data, count: length).bindMemory(to: UInt8.self), as: UTF8.self)
    }
}
