/// The log records of every line a server reads and writes, in the format of ``FileLogHandler``
/// (`<time> info <server>: <origin> < <line>`), built as bytes for a whole batch of lines and written in one
/// go: logging every line must not cost a string, a lock and a clock read per line.
struct TrafficLog: Sendable {
    let file: LogFile?
    let serverName: String
    let enabled: Bool

    /// A batch's records, timestamped once.
    func batch(origin: Envelope.Origin) -> Batch {
        Batch(enabled: enabled && file != nil, head: Array("info \(serverName): \(origin) ".utf8))
    }

    func write(_ batch: Batch) {
        guard batch.enabled, !batch.bytes.isEmpty else { return }
        file?.write(bytes: batch.bytes)
    }

    struct Batch {
        let enabled: Bool
        fileprivate var bytes: [UInt8] = []
        private let prefix: [UInt8]

        fileprivate init(enabled: Bool, head: [UInt8]) {
            self.enabled = enabled
            self.prefix = enabled ? Array((FileLogHandler.timestamp() + " ").utf8) + head : []
        }

        /// A line read (without its LF).
        mutating func input(_ line: [UInt8]) {
            append(direction: ASCII.lessThan, line[...])
        }

        /// A reply written; line feeds inside it are shown as `\n` so one record stays one log line.
        mutating func output(_ reply: [UInt8]) {
            append(direction: ASCII.greaterThan, reply.last == ASCII.lineFeed ? reply.dropLast() : reply[...])
        }

        private mutating func append(direction: UInt8, _ line: ArraySlice<UInt8>) {
            guard enabled else { return }
            bytes.append(contentsOf: prefix)
            bytes.append(direction)
            bytes.append(ASCII.space)
            var rest = line
            while let feed = rest.firstIndex(of: ASCII.lineFeed) {
                bytes.append(contentsOf: rest[..<feed])
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "n"))
                rest = rest[(feed + 1)...]
            }
            bytes.append(contentsOf: rest)
            bytes.append(ASCII.lineFeed)
        }
    }
}
