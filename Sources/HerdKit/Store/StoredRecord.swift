/// One client's record as the in-memory store keeps it: the AT line's bytes, where the client id sits in
/// them, the sequence number it was stored under and the neighbour it came from (an index into
/// ``OriginNames``). The client time is read back from the line when compared, so a record is 24 bytes
/// beside its line (BENCHMARKS.md, memory).
struct StoredRecord {
    let line: [UInt8]
    let sequence: UInt64
    /// The neighbour the record came from, from ``OriginNames``; ``OriginNames/local`` for a client of ours.
    let origin: UInt16
    let idStart: UInt16
    let idLength: UInt32

    init(_ atLine: ATLine, sequence: UInt64, origin: UInt16) {
        self.line = atLine.bytes
        self.sequence = sequence
        self.origin = origin
        self.idStart = UInt16(atLine.clientRange.lowerBound)
        self.idLength = UInt32(atLine.clientRange.count)
    }

    private init(copying record: StoredRecord, sequence: UInt64) {
        self.line = record.line
        self.sequence = sequence
        self.origin = record.origin
        self.idStart = record.idStart
        self.idLength = record.idLength
    }

    /// This record under another sequence number.
    func numbered(_ sequence: UInt64) -> StoredRecord {
        StoredRecord(copying: self, sequence: sequence)
    }

    var idRange: Range<Int> { Int(idStart)..<(Int(idStart) + Int(idLength)) }

    var clientIDBytes: ArraySlice<UInt8> { line[idRange] }

    /// Whether this record's client id is `id`.
    @inline(__always)
    func hasID(_ id: UnsafeRawBufferPointer) -> Bool {
        guard Int(idLength) == id.count else { return false }
        return line.withUnsafeBytes { bytes in
            id.count == 0 || memcmp(bytes.baseAddress! + Int(idStart), id.baseAddress!, id.count) == 0
        }
    }

    /// The client time, the line's last field (validated when the line was stored).
    var time: ClientTime {
        var start = line.count
        while start > 0, line[start - 1] != ASCII.space { start -= 1 }
        return ClientTime(line[start...])!
    }

    /// The record as an ``ATLine`` (the line was validated when it was stored).
    var atLine: ATLine {
        var serverEnd = 3
        while line[serverEnd] != ASCII.space { serverEnd += 1 }
        let locationStart = Int(idStart) + Int(idLength) + 1
        var locationEnd = locationStart
        while line[locationEnd] != ASCII.space { locationEnd += 1 }
        return ATLine(
            bytes: line, server: 3..<serverEnd, client: idRange, location: locationStart..<locationEnd, time: time)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
