/// Builds the bytes written back to a client; each reply is one buffer, written once.
public enum Replies {
    /// `? ` + the line stripped of leading and trailing white space + LF.
    public static func invalid(_ line: some Collection<UInt8>) -> [UInt8] {
        let stripped = line.strippingWhiteSpace()
        var bytes: [UInt8] = [UInt8(ascii: "?"), ASCII.space]
        bytes.reserveCapacity(stripped.count + 3)
        bytes.append(contentsOf: stripped)
        bytes.append(ASCII.lineFeed)
        return bytes
    }

    /// The AT line + LF: the answer to an IAMAT.
    public static func at(_ line: ATLine) -> [UInt8] {
        var bytes = line.bytes
        bytes.append(ASCII.lineFeed)
        return bytes
    }

    /// The stored AT line, LF, the JSON document, then two LFs so the reply ends in an empty line.
    public static func places(_ line: ATLine, json: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(line.bytes.count + json.count + 3)
        bytes.append(contentsOf: line.bytes)
        bytes.append(ASCII.lineFeed)
        bytes.append(contentsOf: json)
        bytes.append(ASCII.lineFeed)
        bytes.append(ASCII.lineFeed)
        return bytes
    }
}
