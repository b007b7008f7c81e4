import NIOCore

/// The log records of every line a server reads and writes, in the format of ``FileLogHandler``
/// (`<time> info <server>: <origin> < <line>`), built as bytes and written to the log file in large
/// pieces: logging every line must not cost a string, a lock, a clock read or a system call per line.
///
/// Bytes outside printable ASCII are written as `\xNN` (a backslash as `\\`, a LF inside a reply as `\n`),
/// so a client cannot forge log lines or send control sequences to whoever reads the log.
///
/// Used on its server's event loop. One timestamp serves every record of an event-loop pass.
final class TrafficLog {
    private let file: LogFile?
    let isEnabled: Bool
    private var buffer: [UInt8] = []
    private var stamp: [UInt8] = []
    private var stampIsCurrent = false
    private let flushThreshold = 64 * 1024
    let format: LogFormat

    init(file: LogFile?, enabled: Bool, format: LogFormat = .text) {
        self.file = file
        self.isEnabled = enabled && file != nil
        self.format = format
    }

    /// The per-connection part of a record: `info <server>: <origin> `, or its JSON fields.
    static func prefix(server: String, origin: Envelope.Origin, format: LogFormat = .text) -> [UInt8] {
        switch format {
        case .text: Array("info \(server): \(origin) ".utf8)
        case .json:
            Array(
                ("\"level\":\"info\",\"server\":" + LogFormat.jsonString(server) + ",\"origin\":"
                    + LogFormat.jsonString("\(origin)") + ",").utf8)
        }
    }

    /// A line read (without its LF).
    func input(_ line: ByteBuffer, prefix: [UInt8]) {
        guard isEnabled else { return }
        line.withUnsafeReadableBytes { append(direction: ASCII.lessThan, prefix: prefix, $0) }
    }

    /// A line read, given as bytes.
    func input(bytes line: [UInt8], prefix: [UInt8]) {
        guard isEnabled else { return }
        line.withUnsafeBytes { append(direction: ASCII.lessThan, prefix: prefix, $0) }
    }

    /// A reply written; line feeds inside it are shown as `\n` so one record stays one log line.
    func output(_ reply: Reply, prefix: [UInt8]) {
        guard isEnabled else { return }
        switch reply.content {
        case .line(let line):
            line.withUnsafeBytes { append(direction: ASCII.greaterThan, prefix: prefix, $0) }
        case .bytes(let bytes):
            bytes.withUnsafeBytes { raw in
                let trimmed = raw.last == ASCII.lineFeed ? UnsafeRawBufferPointer(rebasing: raw.dropLast()) : raw
                append(direction: ASCII.greaterThan, prefix: prefix, trimmed)
            }
        }
    }

    /// The next records get a new timestamp (called once per event-loop pass).
    func newPass() {
        stampIsCurrent = false
    }

    private func append(direction: UInt8, prefix: [UInt8], _ line: UnsafeRawBufferPointer) {
        if format == .json {
            appendJSON(direction: direction, prefix: prefix, line)
            return
        }
        if !stampIsCurrent {
            stamp = Array((FileLogHandler.timestamp() + " ").utf8)
            stampIsCurrent = true
        }
        stamp.withUnsafeBytes { buffer.append(contentsOf: $0) }
        prefix.withUnsafeBytes { buffer.append(contentsOf: $0) }
        buffer.append(direction)
        buffer.append(ASCII.space)
        if !Self.needsEscaping(line) {
            buffer.append(contentsOf: line)
        } else {
            var plainStart = 0
            for index in 0..<line.count {
                let byte = line[index]
                if byte >= 0x20 && byte < 0x7F && byte != ASCII.backslash { continue }
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[plainStart..<index]))
                plainStart = index + 1
                Self.escape(byte, into: &buffer)
            }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[plainStart...]))
        }
        buffer.append(ASCII.lineFeed)
        if buffer.count >= flushThreshold { flush() }
    }

    /// `{"time":"...","level":"info","server":"...","origin":"...","direction":"in","line":"..."}`.
    private func appendJSON(direction: UInt8, prefix: [UInt8], _ line: UnsafeRawBufferPointer) {
        if !stampIsCurrent {
            stamp = Array("{\"time\":\"\(FileLogHandler.timestamp())\",".utf8)
            stampIsCurrent = true
        }
        buffer += stamp
        buffer += prefix
        buffer += Array(
            (direction == ASCII.lessThan ? "\"direction\":\"in\",\"line\":\"" : "\"direction\":\"out\",\"line\":\"")
                .utf8)
        LogFormat.appendJSONEscaped(line, to: &buffer)
        buffer += Array("\"}\n".utf8)
        if buffer.count >= flushThreshold { flush() }
    }

    /// Whether any byte is outside printable ASCII or a backslash, eight bytes at a time.
    static func needsEscaping(_ line: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while index + 8 <= line.count {
            let word = line.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A byte below 0x20, above 0x7E (0x7F..0xFF), or equal to 0x5C.
            let below = (word &- ones &* 0x20) & ~word & highs
            let above = ((word &+ ones &* 0x01) | word) & highs
            let backslash = word ^ (ones &* 0x5C)
            let isBackslash = (backslash &- ones) & ~backslash & highs
            if below | above | isBackslash != 0 { return true }
            index += 8
        }
        while index < line.count {
            let byte = line[index]
            if byte < 0x20 || byte >= 0x7F || byte == ASCII.backslash { return true }
            index += 1
        }
        return false
    }

    static func escape(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(ASCII.backslash)
        switch byte {
        case ASCII.lineFeed: out.append(UInt8(ascii: "n"))
        case ASCII.backslash: out.append(ASCII.backslash)
        default:
            let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
            out.append(UInt8(ascii: "x"))
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
    }

    /// Hands the records so far to the log file (which buffers them further until its own flush).
    func flush() {
        guard !buffer.isEmpty else { return }
        file?.write(bytes: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
