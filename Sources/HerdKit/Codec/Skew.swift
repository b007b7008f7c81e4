/// The difference between a server's receive time and a client's time, printed as PROTOCOL.md section 2 asks:
/// an explicit sign and exactly nine fractional digits, never in exponent form.
public struct Skew: Sendable, Hashable, CustomStringConvertible {
    /// Nanoseconds, truncated toward zero when the client time had more than nine fractional digits.
    public let nanoseconds: Int128

    public init(nanoseconds: Int128) {
        self.nanoseconds = nanoseconds
    }

    /// `received - sent`, exact to the nanosecond.
    public init(received: WallTime, sent: ClientTime) {
        let difference = received.totalNanoseconds - sent.truncatedNanoseconds
        guard !sent.subnanoDigits.isEmpty else {
            self.nanoseconds = difference
            return
        }
        // The exact client time lies strictly beyond its truncation (away from zero), so the exact skew
        // lies strictly between two whole nanoseconds; keep the one nearer zero.
        if sent.isNegative {
            self.nanoseconds = difference <= -1 ? difference + 1 : difference
        } else {
            self.nanoseconds = difference >= 1 ? difference - 1 : difference
        }
    }

    public var description: String {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text to `bytes` digit by digit (the hot path builds an AT line per IAMAT).
    func append(to bytes: inout [UInt8]) {
        let magnitude = nanoseconds < 0 ? -nanoseconds : nanoseconds
        bytes.append(nanoseconds < 0 ? ASCII.minus : ASCII.plus)
        var whole = magnitude / 1_000_000_000
        let fraction = UInt32(magnitude % 1_000_000_000)
        // |Int128| / 10^9 has at most 30 digits: collected lowest first in 32 bytes of scratch.
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            var count = 0
            repeat {
                digits[count] = ASCII.zero + UInt8(whole % 10)
                whole /= 10
                count += 1
            } while whole > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(digits[index]) }
        }
        bytes.append(ASCII.dot)
        var divisor: UInt32 = 100_000_000
        while divisor > 0 {
            bytes.append(ASCII.zero + UInt8((fraction / divisor) % 10))
            divisor /= 10
        }
    }
}
