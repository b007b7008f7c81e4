import NIOCore

/// Reads one line of the protocol into a ``Message``.
///
/// The grammar is PROTOCOL.md sections 2 to 4; every rejection carries a reason for the log, while the
/// client only ever sees `? ` and its stripped line. Fields are checked in place; a valid line is copied
/// once, and the message's fields are slices of that copy.
public enum MessageParser {
    /// Parses a line (without its terminator). Returns nil for a blank line, which the protocol ignores.
    public static func parse(_ line: some Collection<UInt8>) throws(ProtocolError) -> Message? {
        if let result = line.withContiguousStorageIfAvailable({ parse(bytes: UnsafeRawBufferPointer($0)) }) {
            return try result.get()
        }
        return try Array(line).withUnsafeBytes { parse(bytes: $0) }.get()
    }

    /// Parses a line framed from a read buffer, without copying it first.
    public static func parse(_ line: ByteBuffer) throws(ProtocolError) -> Message? {
        try line.withUnsafeReadableBytes { parse(bytes: $0) }.get()
    }

    static func parse(bytes: UnsafeRawBufferPointer) -> Result<Message?, ProtocolError> {
        var cursor = FieldCursor(bytes)
        guard let command = cursor.next() else { return .success(nil) }
        do throws(ProtocolError) {
            if bytes.matches(command, "IAMAT") {
                return .success(.iamat(try parseIAmAt(bytes, command: command, &cursor)))
            }
            if bytes.matches(command, "WHATSAT") {
                return .success(.whatsat(try parseWhatsAt(bytes, &cursor)))
            }
            if bytes.matches(command, "AT") {
                return .success(.at(try parseAT(bytes, command: command, &cursor)))
            }
            throw ProtocolError("unknown command")
        } catch {
            return .failure(error)
        }
    }

    private static func wrongCount(_ command: String, expected: Int, _ bytes: UnsafeRawBufferPointer) -> ProtocolError {
        var cursor = FieldCursor(bytes)
        let arguments = cursor.remaining() - 1
        return ProtocolError("\(command) takes exactly \(expected) arguments, got \(arguments)")
    }

    static func parseIAmAt(
        _ bytes: UnsafeRawBufferPointer, command: Range<Int>, _ cursor: inout FieldCursor
    ) throws(ProtocolError) -> IAmAt {
        guard let id = cursor.next(), let location = cursor.next(), let time = cursor.next(), cursor.next() == nil
        else { throw wrongCount("IAMAT", expected: 3, bytes) }
        _ = try Coordinates.validate(UnsafeRawBufferPointer(rebasing: bytes[location]))
        guard let clientTime = ClientTime(bytes[time]) else {
            throw ProtocolError("client time is not [+-]seconds[.fraction] within range")
        }
        let base = command.lowerBound
        let line = Array(bytes[base..<time.upperBound])
        func slice(_ range: Range<Int>) -> ArraySlice<UInt8> {
            line[(range.lowerBound - base)..<(range.upperBound - base)]
        }
        return IAmAt(
            clientID: ClientID(slice: slice(id)), time: clientTime, locationText: slice(location),
            timeText: slice(time))
    }

    static func parseWhatsAt(_ bytes: UnsafeRawBufferPointer, _ cursor: inout FieldCursor) throws(ProtocolError)
        -> WhatsAt
    {
        guard let id = cursor.next(), let radius = cursor.next(), let bound = cursor.next(), cursor.next() == nil
        else { throw wrongCount("WHATSAT", expected: 3, bytes) }
        let kilometres = try parseRadius(bytes[radius])
        let count = try parseBound(bytes[bound])
        return WhatsAt(clientID: ClientID(bytes[id]), radiusKilometres: kilometres, bound: count)
    }

    static func parseAT(
        _ bytes: UnsafeRawBufferPointer, command: Range<Int>, _ cursor: inout FieldCursor
    ) throws(ProtocolError) -> ATLine {
        guard let server = cursor.next(), let skew = cursor.next(), let client = cursor.next(),
            let location = cursor.next(), let time = cursor.next(), cursor.next() == nil
        else { throw wrongCount("AT", expected: 5, bytes) }
        guard isSkew(bytes[skew]) else {
            throw ProtocolError("skew is not a sign, digits, a dot and exactly nine digits")
        }
        _ = try Coordinates.validate(UnsafeRawBufferPointer(rebasing: bytes[location]))
        guard let clientTime = ClientTime(bytes[time]) else { throw ProtocolError("client time is not valid") }
        // Updates travel byte for byte; a line typed with other white space is stored with single spaces.
        func singleSpace(_ left: Range<Int>, _ right: Range<Int>) -> Bool {
            right.lowerBound == left.upperBound + 1 && bytes[left.upperBound] == ASCII.space
        }
        if singleSpace(command, server) && singleSpace(server, skew) && singleSpace(skew, client)
            && singleSpace(client, location) && singleSpace(location, time)
        {
            let base = command.lowerBound
            func shifted(_ range: Range<Int>) -> Range<Int> { (range.lowerBound - base)..<(range.upperBound - base) }
            return ATLine(
                bytes: Array(bytes[base..<time.upperBound]), server: shifted(server), client: shifted(client),
                location: shifted(location), time: clientTime)
        }
        var line: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in [command, server, skew, client, location, time] {
            if !line.isEmpty { line.append(ASCII.space) }
            let start = line.count
            line.append(contentsOf: bytes[field])
            ranges.append(start..<line.count)
        }
        return ATLine(bytes: line, server: ranges[1], client: ranges[3], location: ranges[4], time: clientTime)
    }

    /// PROTOCOL.md section 2: an explicit sign, digits, a dot and exactly nine fractional digits.
    static func isSkew(_ field: some Collection<UInt8>) -> Bool {
        guard let sign = field.first, sign == ASCII.plus || sign == ASCII.minus else { return false }
        let digits = field.dropFirst()
        guard let dot = digits.firstIndex(of: ASCII.dot) else { return false }
        let whole = digits[..<dot]
        let fraction = digits[digits.index(after: dot)...]
        return !whole.isEmpty && whole.allSatisfy(ASCII.isDigit) && fraction.count == 9
            && fraction.allSatisfy(ASCII.isDigit)
    }

    /// A plain decimal number of kilometres with 0 < r <= 50, checked on the digits so `50.0000000001` is refused.
    static func parseRadius(_ field: some Collection<UInt8>) throws(ProtocolError) -> Double {
        let digits = field.first == ASCII.plus ? field.dropFirst() : field[...]
        guard DecimalText.isPlain(digits) else { throw ProtocolError("radius is not a plain decimal number") }
        if DecimalText.magnitude(digits, exceeds: 50) { throw ProtocolError("radius must be at most 50 km") }
        if !DecimalText.magnitude(digits, exceeds: 0) { throw ProtocolError("radius must be greater than 0 km") }
        guard let value = Double(String(decoding: digits, as: UTF8.self)) else {
            throw ProtocolError("radius is not a number")
        }
        // A radius the digits put above zero but below the smallest Double (`0.` and 400 zeros and `1`) would
        // round to 0; keep it above zero, as it is.
        return max(value, .leastNonzeroMagnitude)
    }

    /// An integer 1...20, leading zeros allowed.
    static func parseBound(_ field: some Collection<UInt8>) throws(ProtocolError) -> Int {
        let digits = field.first == ASCII.plus ? field.dropFirst() : field[...]
        guard !digits.isEmpty, digits.allSatisfy(ASCII.isDigit) else {
            throw ProtocolError("bound is not an integer")
        }
        let significant = digits.drop(while: { $0 == ASCII.zero })
        guard significant.count <= 2 else { throw ProtocolError("bound must be between 1 and 20") }
        let value = significant.reduce(0) { $0 * 10 + Int($1 - ASCII.zero) }
        guard (1...20).contains(value) else { throw ProtocolError("bound must be between 1 and 20") }
        return value
    }
}
