/// A location in decimal degrees.
public struct Coordinates: Sendable, Hashable {
    public let latitude: Double
    public let longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Reads ISO 6709 decimal degrees, `[+-]DD[.ddd][+-]DDD[.ddd]` (PROTOCOL.md section 2), within range.
    public init(iso6709 bytes: some Collection<UInt8>) throws(ProtocolError) {
        let text = Array(bytes)
        let split = try text.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) in try Self.validate(raw) }
        }.get()
        self.init(
            latitude: DecimalText.double(text[1..<split], negative: text[0] == ASCII.minus),
            longitude: DecimalText.double(text[(split + 1)...], negative: text[split] == ASCII.minus))
    }

    /// Reads text that ``validate(_:)`` accepted.
    init(validated text: ArraySlice<UInt8>) {
        let start = text.startIndex
        var split = start + 1
        while text[split] != ASCII.plus && text[split] != ASCII.minus { split += 1 }
        self.init(
            latitude: DecimalText.double(text[(start + 1)..<split], negative: text[start] == ASCII.minus),
            longitude: DecimalText.double(text[(split + 1)...], negative: text[split] == ASCII.minus))
    }

    /// Checks a location field without converting it; returns the index of the longitude's sign.
    static func validate(_ text: UnsafeRawBufferPointer) throws(ProtocolError) -> Int {
        guard let first = text.first, first == ASCII.plus || first == ASCII.minus else {
            throw ProtocolError("location must start with + or -")
        }
        var split = 1
        while split < text.count, text[split] != ASCII.plus, text[split] != ASCII.minus { split += 1 }
        guard split < text.count else {
            throw ProtocolError("location needs a signed latitude and a signed longitude")
        }
        switch DecimalText.degrees(text, 1..<split, limit: 90) {
        case .valid: break
        case .notDecimal: throw ProtocolError("latitude is not a decimal number of degrees")
        case .outOfRange: throw ProtocolError("latitude out of range [-90, 90]")
        }
        switch DecimalText.degrees(text, (split + 1)..<text.count, limit: 180) {
        case .valid: break
        case .notDecimal: throw ProtocolError("longitude is not a decimal number of degrees")
        case .outOfRange: throw ProtocolError("longitude out of range [-180, 180]")
        }
        return split
    }
}

/// Plain decimal numbers (`digits[.digits]`, no sign, no exponent) read and compared on their digits.
enum DecimalText {
    enum Degrees {
        case valid
        case notDecimal
        case outOfRange
    }

    /// Checks `digits[.digits]` in one pass: a plain decimal whose magnitude is at most `limit`, decided on
    /// the digits (a Double would round `+90.000000000000001` onto the limit).
    static func degrees(_ text: UnsafeRawBufferPointer, _ range: Range<Int>, limit: Int) -> Degrees {
        var index = range.lowerBound
        var integer = 0
        var integerDigits = 0
        while index < range.upperBound, ASCII.isDigit(text[index]) {
            if integer <= limit { integer = integer * 10 + Int(text[index] - ASCII.zero) }
            integerDigits += 1
            index += 1
        }
        guard integerDigits > 0 else { return .notDecimal }
        var fractionIsZero = true
        if index < range.upperBound {
            guard text[index] == ASCII.dot, index + 1 < range.upperBound else { return .notDecimal }
            index += 1
            while index < range.upperBound {
                let byte = text[index]
                guard ASCII.isDigit(byte) else { return .notDecimal }
                if byte != ASCII.zero { fractionIsZero = false }
                index += 1
            }
        }
        return integer > limit || (integer == limit && !fractionIsZero) ? .outOfRange : .valid
    }

    /// Digits, optionally one dot followed by at least one digit; nothing else.
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
        var integer = 0
        var significantDigits = 0
        var index = bytes.startIndex
        while index != bytes.endIndex, bytes[index] != ASCII.dot {
            let digit = Int(bytes[index] - ASCII.zero)
            if significantDigits > 0 || digit != 0 { significantDigits += 1 }
            if significantDigits > 18 { return true }
            integer = integer * 10 + digit
            bytes.formIndex(after: &index)
        }
        var fractionIsZero = true
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte != ASCII.dot && byte != ASCII.zero { fractionIsZero = false }
            bytes.formIndex(after: &index)
        }
        return integer > limit || (integer == limit && !fractionIsZero)
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { power in
        var value = 1.0
        for _ in 0..<power { value *= 10 }
        return value
    }

    /// The value of a plain decimal, correctly rounded: exactly when the digits fit a Double's mantissa and
    /// the divisor is an exact power of ten (one IEEE division), otherwise through the standard library.
    static func double(_ bytes: some Collection<UInt8>, negative: Bool) -> Double {
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var sawDot = false
        for byte in bytes {
            if byte == ASCII.dot {
                sawDot = true
                continue
            }
            if mantissa == 0 && byte == ASCII.zero {
                if sawDot { fractionDigits += 1 }
                continue
            }
            digits += 1
            if digits > 15 { break }
            mantissa = mantissa * 10 + UInt64(byte - ASCII.zero)
            if sawDot { fractionDigits += 1 }
        }
        let magnitude: Double
        if digits <= 15 && fractionDigits <= 22 {
            magnitude = Double(mantissa) / exactPowersOfTen[fractionDigits]
        } else {
            magnitude = Double(String(decoding: bytes, as: UTF8.self)) ?? 0
        }
        return negative ? -magnitude : magnitude
    }
}
