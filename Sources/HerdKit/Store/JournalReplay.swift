/// Reads a journal at start-up: checks the header, hands every later entry to the caller in file order, and
/// finds a torn final entry (bytes after the last LF: the process stopped mid-write), which the caller
/// cuts off. Any complete line that fails its checksum or cannot be read is damage, reported with its line
/// number, never skipped: skipping could silently bring back older locations.
struct JournalReplay {
    let path: String
    let epoch: UInt64
    /// The header's latest sequence (a snapshot's; later entries may be higher).
    let headerLatestSequence: UInt64
    /// How many entries follow the header.
    private(set) var entryCount = 0
    /// The length of the file up to its last complete line.
    let completeLength: Int
    /// The bytes of a torn final entry (0 when the file ends with LF).
    let tornBytes: Int
    private let bytes: [UInt8]
    private let headerEnd: Int

    init(path: String, bytes: [UInt8]) throws(DurableStoreError) {
        self.path = path
        self.bytes = bytes
        let lastLineFeed = bytes.lastIndex(of: ASCII.lineFeed)
        self.completeLength = lastLineFeed.map { $0 + 1 } ?? 0
        self.tornBytes = bytes.count - completeLength
        guard let headerEnd = bytes.firstIndex(of: ASCII.lineFeed) else {
            throw DurableStoreError.corruptJournal(path: path, line: 1, reason: "no complete header line")
        }
        self.headerEnd = headerEnd
        let header: JournalEntry
        do {
            header = try JournalEntry.decode(bytes[0..<headerEnd])
        } catch {
            throw DurableStoreError.corruptJournal(path: path, line: 1, reason: error.reason)
        }
        guard case .header(let version, let epoch, let latest) = header else {
            throw DurableStoreError.corruptJournal(path: path, line: 1, reason: "the first line is not a header")
        }
        guard version <= JournalEntry.version else {
            throw DurableStoreError.unsupportedVersion(path: path, found: version, supported: JournalEntry.version)
        }
        self.epoch = epoch
        self.headerLatestSequence = latest
    }

    /// Calls `apply` with each entry after the header and its line number, in file order.
    mutating func forEachEntry(
        _ apply: (JournalEntry, Int) throws(DurableStoreError) -> Void
    ) throws(DurableStoreError) {
        var start = headerEnd + 1
        var lineNumber = 1
        while start < completeLength {
            lineNumber += 1
            let end = bytes[start..<completeLength].firstIndex(of: ASCII.lineFeed) ?? completeLength
            let entry: JournalEntry
            do {
                entry = try JournalEntry.decode(bytes[start..<end])
            } catch {
                throw DurableStoreError.corruptJournal(path: path, line: lineNumber, reason: error.reason)
            }
            if case .header = entry {
                throw DurableStoreError.corruptJournal(path: path, line: lineNumber, reason: "a second header")
            }
            try apply(entry, lineNumber)
            entryCount += 1
            start = end + 1
        }
    }

    /// The line number a torn final entry started on, for the recovery report.
    var tornLineNumber: Int {
        bytes[0..<completeLength].reduce(1) { count, byte in byte == ASCII.lineFeed ? count + 1 : count }
    }
}
