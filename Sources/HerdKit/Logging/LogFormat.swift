/// How log records are written: `text` (one readable line each), or `json` (one JSON object per line, for
/// log shippers). The config's `log_format`.
public enum LogFormat: String, Sendable, Hashable, CaseIterable {
    case text
    case json

    /// `bytes` as the inside of a JSON string: `"` and `\` escaped, and every byte outside printable ASCII
    /// as `\u00XX`, so a client's bytes can never break the record or the terminal that shows it.
    static func appendJSONEscaped(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), ASCII.backslash:
                out.append(ASCII.backslash)
                out.append(byte)
            case 0x20..<0x7F:
                out.append(byte)
            default:
                out += Array("\\u00".utf8)
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            }
        }
    }

    /// `text` as a JSON string, quotes included.
    static func jsonString(_ text: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        appendJSONEscaped(text.utf8, to: &out)
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}
