import COpenSSL
import HerdKit

/// The names a certificate is issued to: its subjectAltName DNS entries, then its subject's common name.
/// Peer links compare them with the server name in the hello line.
enum TLSCertificateNames {
    /// The names in `certificate` (an `X509*`), without duplicates, in that order.
    static func names(of certificate: OpaquePointer) -> [String] {
        var names: [String] = []
        func add(_ name: String) {
            if !name.isEmpty && !names.contains(name) { names.append(name) }
        }
        if let extensionData = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) {
            let generalNames = OpaquePointer(extensionData)
            for index in 0..<herd_sk_GENERAL_NAME_num(generalNames) {
                if let entry = herd_sk_GENERAL_NAME_value(generalNames, index),
                    let dns = herd_GENERAL_NAME_get0_dns(entry)
                {
                    add(string(dns))
                }
            }
            GENERAL_NAMES_free(generalNames)
        }
        if let subject = X509_get_subject_name(certificate) {
            var position: Int32 = -1
            while true {
                position = X509_NAME_get_index_by_NID(subject, NID_commonName, position)
                if position < 0 { break }
                if let entry = X509_NAME_get_entry(subject, position), let data = X509_NAME_ENTRY_get_data(entry) {
                    add(string(data))
                }
            }
        }
        return names
    }

    /// The verified names of the other side of `ssl`, or nil when it showed no certificate or the certificate
    /// did not verify (then nothing it claims is trusted, and peer links fall back to the hello line alone).
    static func verifiedIdentity(of ssl: OpaquePointer) -> PeerIdentity? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        guard SSL_get_verify_result(ssl) == X509_V_OK else { return nil }
        return PeerIdentity(names: names(of: certificate))
    }

    /// An ASN.1 string as UTF-8 text.
    private static func string(_ value: UnsafePointer<ASN1_STRING>) -> String {
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, value)
        guard length >= 0, let utf8 else { return "" }
        defer { herd_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }
}
