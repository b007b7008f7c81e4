/// Reads one line of the protocol into a ``Message``.
///
/// The grammar is PROTOCOL.md sections 2 to 4; every rejection carries a reason for the log, while the
/// client only ever sees `? ` and its stripped line.
public enum MessageParser {
    /// Parses a line (without its terminator). Returns nil for a blank line, which the protocol ignores.
    public static func parse(_ line: some Collection<UInt8>) throws(ProtocolError) -> Message? {
        let fields = Array(line).whiteSpaceFields()
        guard let command = fields.first else { return nil }
        switch String(decoding: command, as: UTF8.self) {
        case "IAMAT":
            return .iamat(try parseIAmAt(fields))
        case "WHATSAT":
            return .whatsat(try parseWhatsAt(fields))
        case "AT":
            return .at(try parseAT(fields))
        default:
            throw ProtocolError("unknown command")
        }
    }

    static func parseIAmAt(_ fields: [ArraySlice<UInt8>]) throws(ProtocolError) -> IAmAt {
        guard fields.count == 4 else { throw ProtocolError("IAMAT takes exactly 3 arguments, got \(fields.count - 1)") }
        let coordinates = try Coordinates(iso6709: fields[2])
        guard let time = ClientTime(fields[3]) else {
            throw ProtocolError("client time is not [+-]seconds[.fraction] within range")
        }
        return IAmAt(
            clientID: ClientID(fields[1]), coordinates: coordinates, time: time,
            locationText: Array(fields[2]), timeText: Array(fields[3]))
    }

    static func parseWhatsAt(_ fields: [ArraySlice<UInt8>]) throws(ProtocolError) -> WhatsAt {
        guard fields.count == 4 else {
            throw ProtocolError("WHATSAT takes exactly 3 arguments, got \(fields.count - 1)")
        }
        let radius = try parseRadius(fields[2])
        let bound = try parseBound(fields[3])
        return WhatsAt(clientID: ClientID(fields[1]), radiusKilometres: radius, bound: bound)
    }

    static func parseAT(_ fields: [ArraySlice<UInt8>]) throws(ProtocolError) -> ATLine {
        guard fields.count == 6 else { throw ProtocolError("AT takes exactly 5 arguments, got \(fields.count - 1)") }
        let server = String(decoding: fields[1], as: UTF8.self)
        let skew = fields[2]
        guard let sign = skew.first, sign == ASCII.plus || sign == ASCII.minus,
            DecimalText.isPlain(skew.dropFirst())
        else {
            throw ProtocolError("skew is not a signed decimal")
        }
        let coordinates = try Coordinates(iso6709: fields[4])
        guard let time = ClientTime(fields[5]) else { throw ProtocolError("client time is not valid") }
        let bytes = Array(fields.map(Array.init).joined(separator: [ASCII.space]))
        return ATLine(bytes: bytes, server: server, clientID: ClientID(fields[3]), coordinates: coordinates, time: time)
    }

    /// A plain decimal number of kilometres with 0 < r <= 50, checked on the digits so `50.0000000001` is refused.
    static func parseRadius(_ field: ArraySlice<UInt8>) throws(ProtocolError) -> Double {
        let digits = field.first == ASCII.plus ? field.dropFirst() : field
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
    static func parseBound(_ field: ArraySlice<UInt8>) throws(ProtocolError) -> Int {
        let digits = field.first == ASCII.plus ? field.dropFirst() : field
        guard !digits.isEmpty, digits.allSatisfy(ASCII.isDigit) else {
            throw ProtocolError("bound is not an integer")
        }
        let significant = digits.drop(while: { $0 == ASCII.zero })
        let value = significant.count > 2 ? 100 : Int(String(decoding: significant, as: UTF8.self)) ?? 0
        guard (1...20).contains(value) else { throw ProtocolError("bound must be between 1 and 20") }
        return value
    }
}
