/// One client's record as the in-memory store keeps it: the AT line's bytes, where the client id sits in
/// them, and the client time for comparisons. Hashing and equality use only the client id bytes, so the
/// line doubles as the key and nothing else is allocated per client.
struct StoredRecord: Hashable, Sendable {
    let line: [UInt8]
    let idStart: Int32
    let idEnd: Int32
    let time: ClientTime

    init(_ atLine: ATLine) {
        let id = atLine.clientID.bytes
        let range = Self.range(of: id, in: atLine.bytes)
        self.line = atLine.bytes
        self.idStart = Int32(range.lowerBound)
        self.idEnd = Int32(range.upperBound)
        self.time = atLine.time
    }

    /// A record used only to look up `client`.
    init(probe client: ClientID) {
        self.line = client.bytes
        self.idStart = 0
        self.idEnd = Int32(client.bytes.count)
        self.time = ClientTime(isNegative: false, seconds: 0, nanoseconds: 0)
    }

    /// AT lines are `AT server skew client ...`: the client id is the fourth field.
    private static func range(of id: [UInt8], in line: [UInt8]) -> Range<Int> {
        var field = 0
        var index = 0
        while index < line.count {
            while index < line.count, ASCII.isWhiteSpace(line[index]) { index += 1 }
            let start = index
            while index < line.count, !ASCII.isWhiteSpace(line[index]) { index += 1 }
            if field == 3 { return start..<index }
            field += 1
        }
        preconditionFailure("an AT line always has a client id field")
    }

    var clientIDBytes: ArraySlice<UInt8> { line[Int(idStart)..<Int(idEnd)] }

    static func == (lhs: StoredRecord, rhs: StoredRecord) -> Bool {
        lhs.clientIDBytes.elementsEqual(rhs.clientIDBytes)
    }

    func hash(into hasher: inout Hasher) {
        line.withUnsafeBytes { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[Int(idStart)..<Int(idEnd)]))
        }
    }

    /// The record as an ``ATLine``; the line was validated when it was stored.
    var atLine: ATLine? {
        guard case .at(let line)? = try? MessageParser.parse(line) else { return nil }
        return line
    }
}
