import COpenSSL
import HerdKit

/// The names a certificate is issued to: its subjectAltName DNS entries, and nothing else. The subject's common
/// name does not count (RFC 9525 dropped it, as browsers have): a name only in the common name is not one the CA
/// vouched for as a host name, so a certificate whose subjectAltName leaves a server out cannot pass for it.
/// Peer links compare these names with the server name in the hello line.
enum TLSCertificateNames {
    /// The DNS subjectAltNames of `certificate` (an `X509*`), without duplicates, in the certificate's order;
    /// empty when it has none (it then names no server at all).
    static func names(of certificate: OpaquePointer) -> [String] {
        var names: [String] = []
        guard let extensionData = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let generalNames = OpaquePointer(extensionData)
        defer { GENERAL_NAMES_free(generalNames) }
        for index in 0..<herd_sk_GENERAL_NAME_num(generalNames) {
            if let entry = herd_sk_GENERAL_NAME_value(generalNames, index),
                let dns = herd_GENERAL_NAME_get0_dns(entry)
            {
                let name = string(dns)
                if !name.isEmpty && !names.contains(name) { names.append(name) }
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
        // A verified certificate without DNS names is an identity that matches no server, never a missing one.
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
