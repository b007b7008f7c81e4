/// A command read from a line, after validation.
public enum Message: Sendable, Hashable {
    /// `IAMAT client location time`, from a client.
    case iamat(IAmAt)
    /// `WHATSAT client radius bound`, from a client.
    case whatsat(WhatsAt)
    /// `AT server skew client location time`, from a peer: a flooded update.
    case at(ATLine)
}

/// A client's location report. Its fields are slices of one copy of the line.
public struct IAmAt: Sendable, Hashable {
    public let clientID: ClientID
    public let time: ClientTime
    /// The location and time fields exactly as sent, copied into the AT line.
    public let locationText: ArraySlice<UInt8>
    public let timeText: ArraySlice<UInt8>

    /// - Precondition: `locationText` is a valid ISO 6709 location and `time` was read from `timeText`.
    public init(clientID: ClientID, time: ClientTime, locationText: ArraySlice<UInt8>, timeText: ArraySlice<UInt8>) {
        self.clientID = clientID
        self.time = time
        self.locationText = locationText
        self.timeText = timeText
    }

    /// The reported location in degrees (read from the validated text when asked: replies copy the text).
    public var coordinates: Coordinates { Coordinates(validated: locationText) }

    /// The AT line a server named `server` answers with when it received this report at `receivedAt`.
    public func atLine(server: String, receivedAt: WallTime) -> ATLine {
        var bytes: [UInt8] = []
        // Exactly the line's size (a skew has at most 1 + 22 + 1 + 9 bytes): the store keeps this array.
        bytes.reserveCapacity(
            3 + server.utf8.count + 34 + clientID.bytes.count + locationText.count + timeText.count + 3)
        bytes.append(ASCII.upperA)
        bytes.append(ASCII.upperT)
        bytes.append(ASCII.space)
        let serverStart = bytes.count
        bytes.append(contentsOf: server.utf8)
        let serverRange = serverStart..<bytes.count
        bytes.append(ASCII.space)
        Skew(received: receivedAt, sent: time).append(to: &bytes)
        bytes.append(ASCII.space)
        let clientStart = bytes.count
        bytes.append(contentsOf: clientID.bytes)
        let clientRange = clientStart..<bytes.count
        bytes.append(ASCII.space)
        let locationStart = bytes.count
        bytes.append(contentsOf: locationText)
        let locationRange = locationStart..<bytes.count
        bytes.append(ASCII.space)
        bytes.append(contentsOf: timeText)
        return ATLine(
            bytes: bytes, server: serverRange, client: clientRange, location: locationRange, time: time)
    }
}

/// A place query for a known client.
public struct WhatsAt: Sendable, Hashable {
    public let clientID: ClientID
    /// Radius in kilometres, 0 < r <= 50.
    public let radiusKilometres: Double
    /// Most results to return, 1...20.
    public let bound: Int

    public init(clientID: ClientID, radiusKilometres: Double, bound: Int) {
        self.clientID = clientID
        self.radiusKilometres = radiusKilometres
        self.bound = bound
    }

    /// What the place provider receives: PROTOCOL.md section 3 gives the radius in metres.
    public var radiusMetres: Double { radiusKilometres * 1000 }
}

/// A server's answer to an IAMAT, which is also the update that floods between servers, byte for byte.
///
/// Only the bytes, the client time and where the fields sit are kept; the rest is read from the bytes when
/// asked, because the hot path (store, flood, reply) needs nothing else.
public struct ATLine: Sendable, Hashable {
    /// The line without its terminating LF.
    public let bytes: [UInt8]
    public let time: ClientTime
    let serverRange: Range<Int>
    let clientRange: Range<Int>
    let locationRange: Range<Int>

    /// - Precondition: the ranges are the fields of a valid AT line in `bytes`, and `time` its client time.
    init(bytes: [UInt8], server: Range<Int>, client: Range<Int>, location: Range<Int>, time: ClientTime) {
        self.bytes = bytes
        self.time = time
        self.serverRange = server
        self.clientRange = client
        self.locationRange = location
    }

    /// The server that received the original IAMAT.
    public var server: String { String(decoding: bytes[serverRange], as: UTF8.self) }
    /// The server's name as it stands in the line.
    public var serverBytes: ArraySlice<UInt8> { bytes[serverRange] }
    public var clientID: ClientID { ClientID(slice: bytes[clientRange]) }
    public var coordinates: Coordinates { Coordinates(validated: bytes[locationRange]) }

    public static func == (lhs: ATLine, rhs: ATLine) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
