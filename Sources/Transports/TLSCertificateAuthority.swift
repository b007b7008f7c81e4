import COpenSSL
import Foundation

/// A small certificate authority for a herd, made with the OpenSSL C API: a self-signed CA, and server
/// certificates it signs that serve both ends of a mutual-TLS peer link (serverAuth and clientAuth). `herd certs`
/// uses it; so do tests that need a second CA, an expired certificate or one naming another server.
///
/// Keys are ECDSA P-256 and signatures SHA-256, which every TLS 1.2 and 1.3 implementation accepts.
public struct TLSCertificateAuthority: Sendable {
    /// The CA certificate, PEM; this is the `ca.pem` every server and client trusts.
    public let certificatePEM: String
    /// The CA's private key, PEM; keep it to issue more certificates later.
    public let privateKeyPEM: String

    /// An existing CA, from its certificate and key.
    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// Writes `ca.pem`-style certificate and key files (the key readable by the owner only).
    public func write(certificateTo certificatePath: String, keyTo keyPath: String) throws {
        try Issued(certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM)
            .write(certificateTo: certificatePath, keyTo: keyPath)
    }

    /// A certificate and its private key, both PEM.
    public struct Issued: Sendable, Hashable {
        public let certificatePEM: String
        public let privateKeyPEM: String

        /// Writes the certificate and the key (readable by the owner only).
        public func write(certificateTo certificatePath: String, keyTo keyPath: String) throws {
            try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath))
            try TLSCertificateAuthority.writePrivate(privateKeyPEM, to: keyPath)
        }
    }

    /// When a certificate is valid: by default from an hour ago (clock skew) for `days` days.
    public struct Validity: Sendable, Hashable {
        public var notBefore: Date
        public var notAfter: Date

        public init(notBefore: Date, notAfter: Date) {
            self.notBefore = notBefore
            self.notAfter = notAfter
        }

        public static func days(_ days: Int) -> Validity {
            Validity(
                notBefore: Date(timeIntervalSinceNow: -3600),
                notAfter: Date(timeIntervalSinceNow: Double(days) * 86_400))
        }
    }

    /// Makes a new self-signed CA.
    public static func create(commonName: String = "herd CA", validity: Validity = .days(3650)) throws(TLSError)
        -> TLSCertificateAuthority
    {
        let key = try generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try makeCertificate(
            commonName: commonName, key: key, issuer: nil, issuerKey: key, validity: validity,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ])
        defer { X509_free(certificate) }
        return TLSCertificateAuthority(
            certificatePEM: try pem { PEM_write_bio_X509($0, certificate) },
            privateKeyPEM: try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) })
    }

    /// Issues a certificate for a server: common name `commonName`, subjectAltName DNS entries for `dnsNames`
    /// and IP entries for `ipAddresses`, usable as a TLS server and as a TLS client.
    public func issue(
        commonName: String, dnsNames: [String], ipAddresses: [String] = [], validity: Validity = .days(825)
    ) throws(TLSError) -> Issued {
        for name in dnsNames + ipAddresses + [commonName]
        where name.isEmpty || name.contains(where: { ",:".contains($0) }) {
            throw .certificateGenerationFailed("'\(name)' cannot be put in a certificate (empty, or has ',' or ':')")
        }
        let caCertificate = try Self.readCertificate(certificatePEM)
        defer { X509_free(caCertificate) }
        let caKey = try Self.readKey(privateKeyPEM)
        defer { EVP_PKEY_free(caKey) }
        guard X509_check_private_key(caCertificate, caKey) == 1 else {
            throw .certificateGenerationFailed(
                "the CA's private key is not the key of its certificate: \(TLSError.drainErrorQueue())")
        }
        let key = try Self.generateKey()
        defer { EVP_PKEY_free(key) }
        let alternativeNames = (dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, "serverAuth,clientAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
        if !alternativeNames.isEmpty { extensions.append((NID_subject_alt_name, alternativeNames)) }
        let certificate = try Self.makeCertificate(
            commonName: commonName, key: key, issuer: caCertificate, issuerKey: caKey, validity: validity,
            extensions: extensions)
        defer { X509_free(certificate) }
        return Issued(
            certificatePEM: try Self.pem { PEM_write_bio_X509($0, certificate) },
            privateKeyPEM: try Self.pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) })
    }

    /// Issues the certificate of the herd server `name` reachable at `host`: DNS:`name`, plus `host` as an IP
    /// or DNS entry, so both a peer's name check and a client's host check pass.
    public func issueServerCertificate(name: String, host: String, validity: Validity = .days(825)) throws(TLSError)
        -> Issued
    {
        if TLSContext.isIPAddress(host) {
            return try issue(commonName: name, dnsNames: [name], ipAddresses: [host], validity: validity)
        }
        return try issue(
            commonName: name, dnsNames: host == name ? [name] : [name, host], validity: validity)
    }

    // MARK: OpenSSL

    private static func generateKey() throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let key = herd_EVP_EC_gen("P-256") else {
            throw .certificateGenerationFailed("cannot generate a key: \(TLSError.drainErrorQueue())")
        }
        return key
    }

    private static func makeCertificate(
        commonName: String, key: OpaquePointer, issuer: OpaquePointer?, issuerKey: OpaquePointer, validity: Validity,
        extensions: [(Int32, String)]
    ) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let certificate = X509_new() else { throw .certificateGenerationFailed(TLSError.drainErrorQueue()) }
        var succeeded = false
        defer { if !succeeded { X509_free(certificate) } }
        func check(_ ok: Bool, _ step: String) throws(TLSError) {
            if !ok {
                throw .certificateGenerationFailed("cannot make a certificate (\(step)): \(TLSError.drainErrorQueue())")
            }
        }
        try check(X509_set_version(certificate, 2) == 1, "version")
        let serial = BN_new()
        defer { BN_free(serial) }
        try check(BN_rand(serial, 127, -1, 0) == 1, "serial number")
        try check(BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate)) != nil, "serial number")
        try check(
            ASN1_TIME_set(X509_getm_notBefore(certificate), time_t(validity.notBefore.timeIntervalSince1970)) != nil,
            "validity")
        try check(
            ASN1_TIME_set(X509_getm_notAfter(certificate), time_t(validity.notAfter.timeIntervalSince1970)) != nil,
            "validity")
        try check(X509_set_pubkey(certificate, key) == 1, "public key")
        let subject = X509_get_subject_name(certificate)
        for (field, value) in [("O", "herd"), ("CN", commonName)] {
            let added = value.withCString { text in
                text.withMemoryRebound(to: UInt8.self, capacity: value.utf8.count) {
                    X509_NAME_add_entry_by_txt(subject, field, MBSTRING_UTF8, $0, -1, -1, 0)
                }
            }
            try check(added == 1, "subject")
        }
        try check(
            X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0) } ?? subject) == 1, "issuer")
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer ?? certificate, certificate, nil, nil, 0)
        for (nid, value) in extensions {
            guard let created = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw .certificateGenerationFailed(
                    "cannot make the extension '\(value)': \(TLSError.drainErrorQueue())")
            }
            defer { X509_EXTENSION_free(created) }
            try check(X509_add_ext(certificate, created, -1) == 1, "extension \(value)")
        }
        try check(X509_sign(certificate, issuerKey, EVP_sha256()) > 0, "signature")
        succeeded = true
        return certificate
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws(TLSError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .certificateGenerationFailed(TLSError.drainErrorQueue()) }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else {
            throw .certificateGenerationFailed("cannot write PEM: \(TLSError.drainErrorQueue())")
        }
        var data: UnsafeMutablePointer<CChar>?
        let length = herd_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw .certificateGenerationFailed("cannot write PEM: empty output") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func withBIO<T>(_ text: String, _ body: (OpaquePointer) -> T?) throws(TLSError) -> T {
        let bytes = Array(text.utf8)
        let result: T? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
        guard let result else {
            throw .certificateGenerationFailed("the CA's PEM is not usable: \(TLSError.drainErrorQueue())")
        }
        return result
    }

    private static func readCertificate(_ pem: String) throws(TLSError) -> OpaquePointer {
        try withBIO(pem) { PEM_read_bio_X509($0, nil, nil, nil) }
    }

    private static func readKey(_ pem: String) throws(TLSError) -> OpaquePointer {
        try withBIO(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
    }

    /// Writes a private key readable by its owner only (mode 0600 from the moment it exists).
    static func writePrivate(_ text: String, to path: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}
