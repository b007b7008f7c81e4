#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One client's record as the in-memory store keeps it: the AT line's bytes, where the client id sits in
/// them, the client time for comparisons, the sequence number it was stored under and the neighbour it came
/// from (as an index into ``OriginNames``). Hashing and equality use only the client id bytes, so the line
/// doubles as the key and nothing else is allocated per client.
///
/// Fields are ordered so the struct packs into 52 bytes (the time's 21 bytes leave room for the origin).
struct StoredRecord: Hashable, Sendable {
    let line: [UInt8]
    let sequence: UInt64
    let time: ClientTime
    /// The neighbour the record came from, from ``OriginNames``; ``OriginNames/local`` for a client of ours.
    let origin: UInt16
    let idStart: Int32
    let idEnd: Int32
    /// A cheap digest of the client id. A set lookup compares every record on its probe path; comparing
    /// this first spares loading each one's line from memory (the cost of a lookup in a large store).
    let fingerprint: UInt32

    init(_ atLine: ATLine, sequence: UInt64, origin: UInt16) {
        let id = atLine.clientID.bytes
        let range = Self.range(of: id, in: atLine.bytes)
        self.line = atLine.bytes
        self.sequence = sequence
        self.time = atLine.time
        self.origin = origin
        self.idStart = Int32(range.lowerBound)
        self.idEnd = Int32(range.upperBound)
        self.fingerprint = Self.fingerprint(of: id[...])
    }

    private init(copying record: StoredRecord, sequence: UInt64) {
        self.line = record.line
        self.sequence = sequence
        self.time = record.time
        self.origin = record.origin
        self.idStart = record.idStart
        self.idEnd = record.idEnd
        self.fingerprint = record.fingerprint
    }

    /// This record under another sequence number.
    func numbered(_ sequence: UInt64) -> StoredRecord {
        StoredRecord(copying: self, sequence: sequence)
    }

    /// A record used only to look up `client`.
    init(probe client: ClientID) {
        self.line = client.bytes
        self.sequence = 0
        self.time = ClientTime(isNegative: false, seconds: 0, nanoseconds: 0)
        self.origin = OriginNames.local
        self.idStart = 0
        self.idEnd = Int32(client.bytes.count)
        self.fingerprint = Self.fingerprint(of: client.bytes[...])
    }

    /// FNV-1a over the id's bytes. Not the hash: a set still hashes the bytes with its seeded hasher, so
    /// crafted ids that share a fingerprint only cost a byte comparison, never a long probe path.
    private static func fingerprint(of id: ArraySlice<UInt8>) -> UInt32 {
        var value: UInt32 = 2_166_136_261
        for byte in id { value = (value ^ UInt32(byte)) &* 16_777_619 }
        return value
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

    /// True when this record should replace `other` (same client): a newer client time, or the same time
    /// under a higher sequence number (only a replayed journal holds such twins).
    func supersedes(_ other: StoredRecord) -> Bool {
        other.time < time || (other.time == time && other.sequence < sequence)
    }

    static func == (lhs: StoredRecord, rhs: StoredRecord) -> Bool {
        guard lhs.fingerprint == rhs.fingerprint, lhs.idEnd - lhs.idStart == rhs.idEnd - rhs.idStart else {
            return false
        }
        return lhs.line.withUnsafeBytes { left in
            rhs.line.withUnsafeBytes { right in
                memcmp(
                    left.baseAddress! + Int(lhs.idStart), right.baseAddress! + Int(rhs.idStart),
                    Int(lhs.idEnd - lhs.idStart)) == 0
            }
        }
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
