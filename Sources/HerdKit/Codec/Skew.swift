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
        let magnitude = nanoseconds < 0 ? -nanoseconds : nanoseconds
        let whole = magnitude / 1_000_000_000
        let fraction = String(magnitude % 1_000_000_000)
        let sign = nanoseconds < 0 ? "-" : "+"
        return sign + String(whole) + "." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}
