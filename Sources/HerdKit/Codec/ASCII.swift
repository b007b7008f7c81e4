/// Byte-level helpers for the line protocol, which is defined over ASCII bytes rather than Unicode text.
enum ASCII {
    static let space = UInt8(ascii: " ")
    static let lessThan = UInt8(ascii: "<")
    static let greaterThan = UInt8(ascii: ">")
    static let lineFeed = UInt8(ascii: "\n")
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let upperA = UInt8(ascii: "A")
    static let upperT = UInt8(ascii: "T")
    static let questionMark = UInt8(ascii: "?")
    static let backslash = UInt8(ascii: "\\")

    /// PROTOCOL.md section 1: space, tab, LF, vertical tab, form feed and CR separate fields.
    @inline(__always)
    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= zero && byte <= nine
    }
}

extension Collection where Element == UInt8 {
    /// The bytes with leading and trailing ASCII white space removed; inner white space is kept.
    func strippingWhiteSpace() -> SubSequence {
        guard let first = firstIndex(where: { !ASCII.isWhiteSpace($0) }) else {
            return self[endIndex..<endIndex]
        }
        var last = first
        var index = first
        while index != endIndex {
            if !ASCII.isWhiteSpace(self[index]) { last = index }
            formIndex(after: &index)
        }
        return self[first...last]
    }

    /// Fields separated by runs of ASCII white space.
    func whiteSpaceFields() -> [SubSequence] {
        split(omittingEmptySubsequences: true, whereSeparator: ASCII.isWhiteSpace)
    }
}
