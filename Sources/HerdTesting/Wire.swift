import Foundation
import Testing

/// What the tests send and how they check replies byte for byte (PROTOCOL.md sections 2 to 4).
public enum Wire {
    /// The location and time of the protocol's own example.
    public static let location = "+34.068930-118.445127"
    public static let time = "1621464827.959498503"

    /// The skew field of an AT line when it has PROTOCOL.md's form: explicit sign, nine fractional digits.
    public static func skew(inATLine line: Substring) -> String? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "AT" else { return nil }
        let skew = fields[2]
        guard skew.wholeMatch(of: #/[+-][0-9]+\.[0-9]{9}/#) != nil else { return nil }
        return String(skew)
    }

    /// The IAMAT line for `client`.
    public static func iamat(_ client: String, location: String = location, time: String = time) -> String {
        "IAMAT \(client) \(location) \(time)"
    }

    /// The exact reply to an invalid line: `? `, the line without leading and trailing white space, LF.
    public static func invalid(_ line: String) -> String {
        let whiteSpace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        let bytes = Array(line.utf8)
        guard let first = bytes.firstIndex(where: { !whiteSpace.contains($0) }) else { return "? \n" }
        let last = bytes.lastIndex(where: { !whiteSpace.contains($0) })!
        return "? " + String(decoding: bytes[first...last], as: UTF8.self) + "\n"
    }

    /// Splits the replies to pipelined WHATSATs: each is a `? ` line, or an AT line and JSON up to a blank line.
    public static func splitReplies(_ text: String) -> [Substring] {
        var rest = Substring(text)
        var replies: [Substring] = []
        while !rest.isEmpty {
            let end: Substring.Index?
            if rest.hasPrefix("? ") {
                end = rest.firstIndex(of: "\n").map { rest.index(after: $0) }
            } else {
                end = rest.firstRange(of: "\n\n")?.upperBound
            }
            guard let end else {
                replies.append(rest)
                break
            }
            replies.append(rest[..<end])
            rest = rest[end...]
        }
        return replies
    }

    /// Checks that `reply` is exactly one AT line answering `IAMAT client location time` at `server`,
    /// and returns that line without its LF.
    @discardableResult
    public static func expectATReply(
        _ reply: String, server: String, client: String, location: String = location, time: String = time,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let skew = try #require(
            reply.hasSuffix("\n") ? skew(inATLine: reply.dropLast()) : nil,
            "not an AT line with a well-formed skew: \(reply.debugDescription)", sourceLocation: sourceLocation)
        let expected = "AT \(server) \(skew) \(client) \(location) \(time)"
        #expect(reply == expected + "\n", sourceLocation: sourceLocation)
        return expected
    }

    /// Checks a WHATSAT reply: the AT line, LF, a Nearby Search JSON object with at most `bound` results
    /// (at least one when `expectResults`), status OK, no blank line inside, ending in `}` and two LFs.
    public static func expectPlacesReply(
        _ reply: String, atLine: String, bound: Int, expectResults: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(reply.hasPrefix(atLine + "\n"), "first line: \(reply.prefix(200))", sourceLocation: sourceLocation)
        #expect(reply.hasSuffix("}\n\n"), "end: \(reply.suffix(40).debugDescription)", sourceLocation: sourceLocation)
        #expect(!reply.dropLast(2).contains("\n\n"), "a blank line before the end", sourceLocation: sourceLocation)
        guard reply.hasPrefix(atLine + "\n") else { return }
        let json = Data(reply.utf8.dropFirst(atLine.utf8.count + 1))
        let object = try #require(
            try JSONSerialization.jsonObject(with: json) as? [String: Any], "the JSON is not an object",
            sourceLocation: sourceLocation)
        #expect(object["html_attributions"] is [Any], sourceLocation: sourceLocation)
        let results = try #require(object["results"] as? [Any], "no results array", sourceLocation: sourceLocation)
        #expect(results.count <= bound, sourceLocation: sourceLocation)
        if expectResults {
            #expect(!results.isEmpty, sourceLocation: sourceLocation)
            #expect(object["status"] as? String == "OK", sourceLocation: sourceLocation)
        }
    }
}
