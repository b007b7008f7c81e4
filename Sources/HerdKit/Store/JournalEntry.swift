/// One line of a durable store's journal.
///
/// Every line is `<crc32 as 8 lowercase hex digits> <payload>` and ends with LF; the checksum covers the
/// payload bytes. Payloads:
///
///     herd-journal <version> <epoch as 16 hex digits> <latest sequence>   (the first line only)
///     R <sequence> <origin or -> <AT line>                                 (a stored record)
///     C <neighbour> <neighbour epoch as 16 hex digits> <acknowledged>      (a peer cursor)
///
/// Names are written with bytes outside `!`...`~` and `%` as `%XX` (and a name that is just `-` as `%2D`),
/// so fields never contain white space. AT lines are printable ASCII without LF, so they are kept as they
/// are, last on their line.
enum JournalEntry: Equatable {
    case header(version: Int, epoch: UInt64, latestSequence: UInt64)
    case record(sequence: UInt64, origin: String?, line: [UInt8])
    case cursor(neighbour: String, PeerCursor)

    /// The format this code writes, and the newest it reads.
    static let version = 1
    static let magic = "herd-journal"

    /// Appends a record entry to `out` without building the text through strings: every server journals
    /// every update it stores, so this is on the herd's busiest path after the pipeline itself.
    ///
    /// - Parameter origin: the origin's name as the journal writes it (escaped; `-` for a local client).
    static func appendRecord(sequence: UInt64, origin: [UInt8], line: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        for _ in 0..<8 { out.append(ASCII.zero) }
        out.append(ASCII.space)
        let payloadStart = out.count
        out.append(UInt8(ascii: "R"))
        out.append(ASCII.space)
        appendDecimal(sequence, to: &out)
        out.append(ASCII.space)
        out.append(contentsOf: origin)
        out.append(ASCII.space)
        out.append(contentsOf: line)
        var crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[payloadStart...])) }
        for index in stride(from: start + 7, through: start, by: -1) {
            out[index] = hexDigits[Int(crc & 0xF)]
            crc >>= 4
        }
        out.append(ASCII.lineFeed)
    }

    static func appendRecord(sequence: UInt64, origin: String?, line: [UInt8], to out: inout [UInt8]) {
        appendRecord(
            sequence: sequence, origin: origin.map { Array(escape($0).utf8) } ?? [ASCII.minus], line: line, to: &out)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(ASCII.zero + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The entry as one journal line, LF included.
    func encoded() -> [UInt8] {
        var payload: [UInt8]
        switch self {
        case .header(let version, let epoch, let latest):
            payload = Array("\(Self.magic) \(version) \(Self.hex16(epoch)) \(latest)".utf8)
        case .record(let sequence, let origin, let line):
            var entry: [UInt8] = []
            Self.appendRecord(sequence: sequence, origin: origin, line: line, to: &entry)
            return entry
        case .cursor(let neighbour, let cursor):
            payload = Array(
                "C \(Self.escape(neighbour)) \(Self.hex16(cursor.neighbourEpoch)) \(cursor.acknowledged)".utf8)
        }
        let crc = String(CRC32.checksum(payload), radix: 16)
        var line = Array((String(repeating: "0", count: 8 - crc.count) + crc + " ").utf8)
        line.reserveCapacity(line.count + payload.count + 1)
        line += payload
        line.append(ASCII.lineFeed)
        return line
    }

    /// Reads one line (without its LF); the error is the reason, for a message that also names the line.
    static func decode(_ line: ArraySlice<UInt8>) throws(JournalDecodeFailure) -> JournalEntry {
        guard line.count > 9, line[line.startIndex + 8] == ASCII.space,
            let stored = UInt32(String(decoding: line.prefix(8), as: UTF8.self), radix: 16)
        else { throw JournalDecodeFailure("no checksum field") }
        let payload = line.dropFirst(9)
        let computed = CRC32.checksum(payload)
        guard stored == computed else {
            throw JournalDecodeFailure(
                "checksum mismatch (stored \(String(stored, radix: 16)), computed \(String(computed, radix: 16)))")
        }
        let fields = payload.split(separator: ASCII.space, maxSplits: 3, omittingEmptySubsequences: false)
        let kind = String(decoding: fields[0], as: UTF8.self)
        switch kind {
        case magic:
            guard fields.count == 4, let version = Int(text(fields[1])), let epoch = UInt64(text(fields[2]), radix: 16),
                let latest = UInt64(text(fields[3]))
            else { throw JournalDecodeFailure("malformed header") }
            return .header(version: version, epoch: epoch, latestSequence: latest)
        case "R":
            guard fields.count == 4, let sequence = UInt64(text(fields[1])) else {
                throw JournalDecodeFailure("malformed record entry")
            }
            let origin = fields[2].elementsEqual("-".utf8) ? nil : try unescape(fields[2])
            return .record(sequence: sequence, origin: origin, line: Array(fields[3]))
        case "C":
            guard fields.count == 4, let epoch = UInt64(text(fields[2]), radix: 16),
                let acknowledged = UInt64(text(fields[3]))
            else { throw JournalDecodeFailure("malformed cursor entry") }
            let cursor = PeerCursor(neighbourEpoch: epoch, acknowledged: acknowledged)
            return .cursor(neighbour: try unescape(fields[1]), cursor)
        default:
            throw JournalDecodeFailure("unknown entry kind \"\(kind.prefix(20))\"")
        }
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func escape(_ name: String) -> String {
        if name == "-" { return "%2D" }
        var result = ""
        for byte in name.utf8 {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let digits = String(byte, radix: 16, uppercase: true)
                result += "%" + (digits.count == 1 ? "0" : "") + digits
            }
        }
        return result
    }

    static func unescape(_ field: ArraySlice<UInt8>) throws(JournalDecodeFailure) -> String {
        var bytes: [UInt8] = []
        var index = field.startIndex
        while index < field.endIndex {
            if field[index] == UInt8(ascii: "%") {
                guard index + 2 < field.endIndex,
                    let byte = UInt8(String(decoding: field[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
                else { throw JournalDecodeFailure("bad %-escape in a name") }
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(field[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a journal line could not be read.
struct JournalDecodeFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
