/// Writes JSON the way the Places web service does: keys sorted, three-space indents, `"key" : value`.
///
/// The output never has two adjacent newlines nor a trailing newline, which PROTOCOL.md section 3 requires.
public enum JSONWriter {
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(value, indent: 0, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): out.append(contentsOf: format(number).utf8)
        case .string(let text): writeString(text, into: &out)
        case .array(let items):
            guard !items.isEmpty else { return out.append(contentsOf: "[]".utf8) }
            out.append(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                out.append(contentsOf: offset == 0 ? [ASCII.lineFeed] : [UInt8(ascii: ","), ASCII.lineFeed])
                pad(indent + 1, &out)
                write(item, indent: indent + 1, into: &out)
            }
            out.append(ASCII.lineFeed)
            pad(indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { return out.append(contentsOf: "{}".utf8) }
            out.append(UInt8(ascii: "{"))
            for (offset, key) in members.keys.sorted().enumerated() {
                out.append(contentsOf: offset == 0 ? [ASCII.lineFeed] : [UInt8(ascii: ","), ASCII.lineFeed])
                pad(indent + 1, &out)
                writeString(key, into: &out)
                out.append(contentsOf: " : ".utf8)
                write(members[key]!, indent: indent + 1, into: &out)
            }
            out.append(ASCII.lineFeed)
            pad(indent, &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func pad(_ level: Int, _ out: inout [UInt8]) {
        out.append(contentsOf: repeatElement(ASCII.space, count: level * 3))
    }

    /// Integers print without a fraction; others in Swift's shortest round-trip form; non-finite as null.
    static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        // Swift's shortest round-trip form ("34.0689302", "1e-05") is valid JSON as it stands.
        return String(number)
    }

    private static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
