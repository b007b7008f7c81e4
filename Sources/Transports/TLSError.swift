import COpenSSL

/// Why TLS could not be set up or a TLS connection failed, with OpenSSL's own reason where it gave one, so a
/// log line says what to fix (`certificate has expired`, `unsupported protocol`, a plain-TCP client).
public enum TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A certificate, key or CA file is missing or unreadable. `role` says which (`certificate`, `key`, `ca`).
    case unreadableFile(role: String, path: String, reason: String)
    /// A file was read but OpenSSL could not use it (not PEM, wrong kind of object, damaged).
    case invalidFile(role: String, path: String, reason: String)
    /// The private key is not the key of the certificate.
    case keyMismatch(certificate: String, key: String, reason: String)
    /// This side's own certificate is outside its validity period.
    case certificateNotValidNow(path: String, reason: String)
    /// Listening needs a certificate and a key; a dial-only configuration has none.
    case noCertificate
    /// OpenSSL refused the settings (an unusable protocol version, an out-of-memory context).
    case configurationFailed(String)
    /// The handshake failed; the reason is OpenSSL's (with the certificate verification result when that failed).
    case handshakeFailed(String)
    /// The other side does not speak TLS at all: its first bytes were not a TLS record (a plain-TCP client).
    case notTLS(firstBytes: String)
    /// The handshake did not finish in time (a silent client holds no slot for ever).
    case handshakeTimedOut(Duration)
    /// The connection closed before the handshake finished.
    case closedDuringHandshake
    /// Reading or writing on an established connection failed (a bad record, an alert from the other side).
    case connectionFailed(String)
    /// The other side closed the TCP connection without a TLS close_notify: input may have been cut short.
    case uncleanShutdown
    /// A write after this side sent close_notify.
    case writeAfterClose
    /// Making a key or certificate (``TLSCertificateAuthority``) failed.
    case certificateGenerationFailed(String)

    public var description: String {
        switch self {
        case .unreadableFile(let role, let path, let reason):
            "cannot read the \(role) file '\(path)': \(reason)"
        case .invalidFile(let role, let path, let reason):
            "the \(role) file '\(path)' is not usable: \(reason)"
        case .keyMismatch(let certificate, let key, let reason):
            "the private key '\(key)' does not match the certificate '\(certificate)': \(reason)"
        case .certificateNotValidNow(let path, let reason):
            "the certificate '\(path)' \(reason)"
        case .noCertificate:
            "listening with TLS needs a certificate and a private key"
        case .configurationFailed(let reason):
            "OpenSSL refused the TLS settings: \(reason)"
        case .handshakeFailed(let reason):
            "TLS handshake failed: \(reason)"
        case .notTLS(let firstBytes):
            "not a TLS client (a plain-TCP client on a TLS port?); it sent \(firstBytes)"
        case .handshakeTimedOut(let timeout):
            "TLS handshake did not finish within \(timeout)"
        case .closedDuringHandshake:
            "the connection closed during the TLS handshake"
        case .connectionFailed(let reason):
            "TLS connection failed: \(reason)"
        case .uncleanShutdown:
            "the other side closed the connection without a TLS close_notify"
        case .writeAfterClose:
            "write after the TLS connection was closed"
        case .certificateGenerationFailed(let reason):
            "cannot make the certificate: \(reason)"
        }
    }

    /// Drains OpenSSL's error queue (per thread) into one line, most specific reason last, as
    /// `error:0A000086:SSL routines::certificate verify failed` becomes `certificate verify failed`.
    static func drainErrorQueue() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // `error:0A000086:SSL routines::certificate verify failed`: the part after the last colon says it.
            let reason = text.split(separator: ":").last.map(String.init) ?? text
            reasons.append(reason.isEmpty ? text : reason)
        }
        var unique: [String] = []
        for reason in reasons where !unique.contains(reason) { unique.append(reason) }
        return unique.isEmpty ? "unknown OpenSSL error" : unique.joined(separator: "; ")
    }
}
