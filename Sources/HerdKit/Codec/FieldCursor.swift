/// Walks the white-space separated fields of one line in place, so parsing a command needs no copy of the
/// line and no array of fields.
struct FieldCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The byte range of the next field, or nil when only white space is left.
    @inline(__always)
    mutating func next() -> Range<Int>? {
        let count = bytes.count
        while index < count, ASCII.isWhiteSpace(bytes[index]) { index += 1 }
        guard index < count else { return nil }
        let start = index
        while index < count, !ASCII.isWhiteSpace(bytes[index]) { index += 1 }
        return start..<index
    }

    /// How many fields are left (for an error message; walks the rest of the line).
    mutating func remaining() -> Int {
        var count = 0
        while next() != nil { count += 1 }
        return count
    }
}

extension UnsafeRawBufferPointer {
    /// Whether the bytes in `range` are exactly `text` (ASCII).
    @inline(__always)
    func matches(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for offset in 0..<range.count where self[range.lowerBound + offset] != expected[offset] { return false }
        return true
    }
}
