/// A command read from a line, after validation.
public enum Message: Sendable, Hashable {
    /// `IAMAT client location time`, from a client.
    case iamat(IAmAt)
    /// `WHATSAT client radius bound`, from a client.
    case whatsat(WhatsAt)
    /// `AT server skew client location time`, from a peer: a flooded update.
    case at(ATLine)
}

/// A client's location report.
public struct IAmAt: Sendable, Hashable {
    public let clientID: ClientID
    public let coordinates: Coordinates
    public let time: ClientTime
    /// The location and time fields exactly as sent, copied into the AT line.
    public let locationText: [UInt8]
    public let timeText: [UInt8]

    public init(
        clientID: ClientID, coordinates: Coordinates, time: ClientTime, locationText: [UInt8], timeText: [UInt8]
    ) {
        self.clientID = clientID
        self.coordinates = coordinates
        self.time = time
        self.locationText = locationText
        self.timeText = timeText
    }

    /// The AT line a server named `server` answers with when it received this report at `receivedAt`.
    public func atLine(server: String, receivedAt: WallTime) -> ATLine {
        let skew = Skew(received: receivedAt, sent: time).description
        var bytes: [UInt8] = []
        // Exactly the line's size: the store keeps this array as it is.
        bytes.reserveCapacity(
            7 + server.utf8.count + skew.utf8.count + clientID.bytes.count + locationText.count + timeText.count)
        bytes.append(contentsOf: "AT ".utf8)
        bytes.append(contentsOf: server.utf8)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: skew.utf8)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: clientID.bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: locationText)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: timeText)
        return ATLine(bytes: bytes, server: server, clientID: clientID, coordinates: coordinates, time: time)
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
public struct ATLine: Sendable, Hashable {
    /// The line without its terminating LF.
    public let bytes: [UInt8]
    /// The server that received the original IAMAT.
    public let server: String
    public let clientID: ClientID
    public let coordinates: Coordinates
    public let time: ClientTime

    public init(bytes: [UInt8], server: String, clientID: ClientID, coordinates: Coordinates, time: ClientTime) {
        self.bytes = bytes
        self.server = server
        self.clientID = clientID
        self.coordinates = coordinates
        self.time = time
    }
}
