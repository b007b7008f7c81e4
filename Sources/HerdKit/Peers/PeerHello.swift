/// The control lines of a peer link (Docs/anti-entropy.md): the dialler's `HELLO <server name>`, the
/// listener's `EPOCH <n>` answer naming its store, and the listener's `ACK <n>` after storing updates.
public enum PeerHello {
    public static func line(from server: String) -> [UInt8] {
        Array("HELLO \(server)\n".utf8)
    }

    /// The server named by a hello line, or nil if the line is not one.
    public static func serverName(in line: [UInt8]) -> String? {
        let fields = line.whiteSpaceFields()
        guard fields.count == 2, String(decoding: fields[0], as: UTF8.self) == "HELLO" else { return nil }
        return String(decoding: fields[1], as: UTF8.self)
    }

    /// `ACK n`: the listening side has processed the first n updates of this link.
    public static func acknowledgement(_ count: UInt64) -> [UInt8] {
        Array("ACK \(count)\n".utf8)
    }

    public static func acknowledgedCount(in line: [UInt8]) -> UInt64? {
        let fields = line.whiteSpaceFields()
        guard fields.count == 2, String(decoding: fields[0], as: UTF8.self) == "ACK" else { return nil }
        return UInt64(String(decoding: fields[1], as: UTF8.self))
    }

    /// `EPOCH n`: the listening side's store epoch, so the dialler knows where the listener's copy of its
    /// change feed stands (a new epoch means the listener lost its data and needs everything again).
    public static func epoch(_ epoch: UInt64) -> [UInt8] {
        Array("EPOCH \(epoch)\n".utf8)
    }

    public static func epoch(in line: [UInt8]) -> UInt64? {
        let fields = line.whiteSpaceFields()
        guard fields.count == 2, String(decoding: fields[0], as: UTF8.self) == "EPOCH" else { return nil }
        return UInt64(String(decoding: fields[1], as: UTF8.self))
    }
}
