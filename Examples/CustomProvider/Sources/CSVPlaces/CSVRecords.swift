/// Splits CSV text into records of fields: commas separate fields, double quotes enclose a field that holds
/// commas, and `""` inside quotes is one quote. A record is one line (quoted line breaks are not supported).
enum CSVRecords {
    /// Why a line is not a CSV record.
    struct Malformed: Error {
        let reason: String
    }

    /// The non-blank lines of `text` with their 1-based line numbers, each split into fields.
    static func parse(_ text: String) throws(Malformed) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        // LF, CRLF (one Character in Swift) and CR all end a line.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            do {
                records.append((index + 1, try fields(of: line)))
            } catch {
                throw Malformed(reason: "line \(index + 1): \(error.reason)")
            }
        }
        return records
    }

    static func fields(of line: Substring) throws(Malformed) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var quoteJustClosed = false
        for character in line {
            if quoted {
                if character == "\"" {
                    quoted = false
                    quoteJustClosed = true
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                // A quote right after a closing quote is an escaped quote inside the field.
                if quoteJustClosed { field.append("\"") }
                quoted = true
            case ",":
                fields.append(field.trimmingWhiteSpace())
                field = ""
            default:
                field.append(character)
            }
            quoteJustClosed = false
        }
        guard !quoted else { throw Malformed(reason: "a quoted field is not closed") }
        fields.append(field.trimmingWhiteSpace())
        return fields
    }
}

extension StringProtocol where SubSequence == Substring {
    fileprivate func trimmingWhiteSpace() -> String {
        String(drop(while: \.isWhitespace).trimmingSuffix(while: \.isWhitespace))
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
