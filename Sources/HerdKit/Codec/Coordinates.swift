/// A latitude and longitude read from ISO 6709 decimal degrees, as in `+34.068930-118.445127`.
public struct Coordinates: Sendable, Hashable {
    public let latitude: Double
    public let longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Parses `[+-]D+[.D+][+-]D+[.D+]` with latitude in [-90, 90] and longitude in [-180, 180].
    public init(iso6709 bytes: some Collection<UInt8>) throws(ProtocolError) {
        let text = Array(bytes)
        guard let first = text.first, first == ASCII.plus || first == ASCII.minus else {
            throw ProtocolError("location must start with + or -")
        }
        guard let split = text.indices.dropFirst().first(where: { text[$0] == ASCII.plus || text[$0] == ASCII.minus })
        else {
            throw ProtocolError("location needs a signed latitude and a signed longitude")
        }
        guard let latitude = Self.signedDecimal(text[..<split]) else {
            throw ProtocolError("latitude is not a decimal number of degrees")
        }
        guard let longitude = Self.signedDecimal(text[split...]) else {
            throw ProtocolError("longitude is not a decimal number of degrees")
        }
        // Checked on the digits: a Double would round `+90.000000000000001` onto the limit.
        guard !DecimalText.magnitude(text[..<split].dropFirst(), exceeds: 90) else {
            throw ProtocolError("latitude out of range [-90, 90]")
        }
        guard !DecimalText.magnitude(text[split...].dropFirst(), exceeds: 180) else {
            throw ProtocolError("longitude out of range [-180, 180]")
        }
        self.init(latitude: latitude, longitude: longitude)
    }

    /// `[+-]digits[.digits]`, sign mandatory.
    private static func signedDecimal(_ bytes: ArraySlice<UInt8>) -> Double? {
        guard bytes.count >= 2, bytes.first == ASCII.plus || bytes.first == ASCII.minus else { return nil }
        guard DecimalText.isPlain(bytes.dropFirst()) else { return nil }
        return Double(String(decoding: bytes, as: UTF8.self))
    }
}

/// Plain decimal numbers: `digits[.digits]`, nothing else (no exponent, no `inf`, no `nan`).
enum DecimalText {
    static func isPlain(_ bytes: some Collection<UInt8>) -> Bool {
        var sawDigit = false
        var sawDot = false
        var digitsAfterDot = 0
        for byte in bytes {
            if ASCII.isDigit(byte) {
                sawDigit = true
                if sawDot { digitsAfterDot += 1 }
            } else if byte == ASCII.dot, !sawDot, sawDigit {
                sawDot = true
            } else {
                return false
            }
        }
        return sawDigit && (!sawDot || digitsAfterDot > 0)
    }

    /// Whether a plain decimal is greater than `limit`, decided on its digits rather than through a Double.
    static func magnitude(_ bytes: some Collection<UInt8>, exceeds limit: Int) -> Bool {
        let dot = bytes.firstIndex(of: ASCII.dot) ?? bytes.endIndex
        let integerPart = bytes[..<dot].drop(while: { $0 == ASCII.zero })
        let fractionIsZero = bytes[dot...].dropFirst().allSatisfy { $0 == ASCII.zero }
        guard integerPart.count <= 18 else { return true }
        let integer = Int(String(decoding: integerPart, as: UTF8.self)) ?? 0
        return integer > limit || (integer == limit && !fractionIsZero)
    }
}
