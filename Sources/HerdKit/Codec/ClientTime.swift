/// A client's timestamp, POSIX seconds with an exact decimal fraction.
///
/// Client times are compared exactly, never through a `Double`, so two reports a nanosecond apart (or
/// closer) are still ordered correctly. Digits beyond the ninth fractional digit are kept for ordering, up to
/// ``maximumFractionDigits``.
public struct ClientTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Declared largest first so a stored time packs into 24 bytes.
    /// Whole seconds of the magnitude.
    public let seconds: UInt64
    /// Fractional digits after the ninth, as ASCII digits with trailing zeros removed (usually empty).
    public let subnanoDigits: [UInt8]
    /// The first nine fractional digits of the magnitude, as nanoseconds.
    public let nanoseconds: UInt32
    /// True for times before the epoch; always false for zero.
    public let isNegative: Bool

    /// The largest accepted number of whole seconds; larger values are out of range.
    public static let maximumSeconds: UInt64 = 999_999_999_999_999_999
    /// The most digits accepted after the dot: finer than any clock, and short enough that comparing two
    /// times stays cheap (a fraction of kilobytes would be compared byte by byte on every update).
    public static let maximumFractionDigits = 30

    public init(isNegative: Bool, seconds: UInt64, nanoseconds: UInt32, subnanoDigits: [UInt8] = []) {
        precondition(nanoseconds < 1_000_000_000)
        let isZero = seconds == 0 && nanoseconds == 0 && subnanoDigits.isEmpty
        self.isNegative = isNegative && !isZero
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.subnanoDigits = subnanoDigits
    }

    /// Parses `[+-]?digits[.digits]`; nil for anything else (exponents, `inf`, `nan`, underscores, overflow).
    public init?<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if let parsed = bytes.withContiguousStorageIfAvailable({ Self(raw: UnsafeRawBufferPointer($0)) }) {
            guard let parsed else { return nil }
            self = parsed
            return
        }
        self.init(slow: bytes)
    }

    /// `[+-]?digits[.digits]` from contiguous bytes, with plain integer indices (every IAMAT and AT line).
    init?(raw bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        guard count > 0 else { return nil }
        var negative = false
        if bytes[0] == ASCII.plus || bytes[0] == ASCII.minus {
            negative = bytes[0] == ASCII.minus
            index = 1
        }
        var seconds: UInt64 = 0
        let integerStart = index
        while index < count, ASCII.isDigit(bytes[index]) {
            let digit = UInt64(bytes[index] - ASCII.zero)
            guard seconds <= (Self.maximumSeconds - digit) / 10 else { return nil }
            seconds = seconds * 10 + digit
            index += 1
        }
        guard index > integerStart else { return nil }
        var nanoseconds: UInt32 = 0
        var extra: [UInt8] = []
        if index < count {
            guard bytes[index] == ASCII.dot else { return nil }
            index += 1
            let fractionStart = index
            while index < count {
                let byte = bytes[index]
                guard ASCII.isDigit(byte), index - fractionStart < Self.maximumFractionDigits else { return nil }
                if index - fractionStart < 9 {
                    nanoseconds = nanoseconds * 10 + UInt32(byte - ASCII.zero)
                } else {
                    extra.append(byte)
                }
                index += 1
            }
            let fractionDigits = index - fractionStart
            guard fractionDigits > 0 else { return nil }
            for _ in fractionDigits..<max(fractionDigits, 9) { nanoseconds *= 10 }
            while extra.last == ASCII.zero { extra.removeLast() }
        }
        self.init(isNegative: negative, seconds: seconds, nanoseconds: nanoseconds, subnanoDigits: extra)
    }

    private init?<Bytes: Collection>(slow bytes: Bytes) where Bytes.Element == UInt8 {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return nil }
        var negative = false
        if bytes[index] == ASCII.plus || bytes[index] == ASCII.minus {
            negative = bytes[index] == ASCII.minus
            bytes.formIndex(after: &index)
        }
        var seconds: UInt64 = 0
        var integerDigits = 0
        while index != bytes.endIndex, ASCII.isDigit(bytes[index]) {
            let digit = UInt64(bytes[index] - ASCII.zero)
            guard seconds <= (Self.maximumSeconds - digit) / 10 else { return nil }
            seconds = seconds * 10 + digit
            integerDigits += 1
            bytes.formIndex(after: &index)
        }
        guard integerDigits > 0 else { return nil }
        var nanoseconds: UInt32 = 0
        var extra: [UInt8] = []
        if index != bytes.endIndex {
            guard bytes[index] == ASCII.dot else { return nil }
            bytes.formIndex(after: &index)
            var fractionDigits = 0
            while index != bytes.endIndex {
                let byte = bytes[index]
                guard ASCII.isDigit(byte), fractionDigits < Self.maximumFractionDigits else { return nil }
                if fractionDigits < 9 {
                    nanoseconds = nanoseconds * 10 + UInt32(byte - ASCII.zero)
                } else {
                    extra.append(byte)
                }
                fractionDigits += 1
                bytes.formIndex(after: &index)
            }
            guard fractionDigits > 0 else { return nil }
            for _ in fractionDigits..<max(fractionDigits, 9) { nanoseconds *= 10 }
            while extra.last == ASCII.zero { extra.removeLast() }
        }
        self.init(isNegative: negative, seconds: seconds, nanoseconds: nanoseconds, subnanoDigits: extra)
    }

    public static func < (lhs: ClientTime, rhs: ClientTime) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let magnitudeLess = lhs.magnitudeIsLess(than: rhs)
        let magnitudeEqual = lhs == rhs
        return lhs.isNegative ? !(magnitudeLess || magnitudeEqual) : magnitudeLess
    }

    private func magnitudeIsLess(than other: ClientTime) -> Bool {
        if seconds != other.seconds { return seconds < other.seconds }
        if nanoseconds != other.nanoseconds { return nanoseconds < other.nanoseconds }
        return subnanoDigits.lexicographicallyPrecedes(other.subnanoDigits)
    }

    /// The time in whole nanoseconds, truncated toward zero.
    var truncatedNanoseconds: Int128 {
        let magnitude = Int128(seconds) * 1_000_000_000 + Int128(nanoseconds)
        return isNegative ? -magnitude : magnitude
    }

    public var description: String {
        var text = isNegative ? "-" : ""
        text += String(seconds)
        var fraction = String(nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        fraction += String(decoding: subnanoDigits, as: UTF8.self)
        return text + "." + fraction
    }
}
