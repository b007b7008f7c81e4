/// One inbound line on its way through the pipeline, with what the stages have learnt of it so far.
public struct Envelope: Sendable {
    /// Where a line came from.
    public enum Origin: Sendable, Hashable, CustomStringConvertible {
        /// A client connection, by remote address.
        case client(String)
        /// A peer link, by the neighbour's server name.
        case peer(String)

        public var description: String {
            switch self {
            case .client(let address): "client \(address)"
            case .peer(let name): "peer \(name)"
            }
        }

        public var peerName: String? {
            if case .peer(let name) = self { return name }
            return nil
        }
    }

    /// Whether a location update is newer than what this server holds.
    public enum Freshness: Sendable, Hashable {
        case unknown
        case newer
        case stale
    }

    /// The line as framed, without its LF.
    public var line: [UInt8]
    public var origin: Origin
    public var receivedAt: WallTime
    /// Set by the parse stage.
    public var message: Message?
    /// For IAMAT and AT: the AT line that is replied, stored and flooded (set by the parse stage).
    public var update: ATLine?
    /// Set by dedupe (and corrected by store if another connection won a race).
    public var freshness: Freshness = .unknown
    /// True once the store stage has kept `update`; only stored updates are flooded.
    public var stored = false
    /// The store's sequence number for `update` once stored (see ``LocationStore``).
    public var sequence: UInt64?

    public init(line: [UInt8], origin: Origin, receivedAt: WallTime) {
        self.line = line
        self.origin = origin
        self.receivedAt = receivedAt
    }
}

/// What a pipeline sends back for one line: nothing (peer updates, blank lines) or one reply buffer.
public struct Reply: Sendable, Hashable {
    public var bytes: [UInt8]
    /// The store sequence number of the update this reply confirms. The server holds the reply until that
    /// update is durable, so a client is never told of an update a restart would lose.
    public var confirms: UInt64?
    /// Also hold the reply until the neighbours have acknowledged `confirms` (set by the flood stage), so a
    /// WHATSAT sent to a neighbour right after this reply sees the update (PROTOCOL.md section 5).
    public var waitsForFlood = false

    public init(bytes: [UInt8], confirms: UInt64? = nil, waitsForFlood: Bool = false) {
        self.bytes = bytes
        self.confirms = confirms
        self.waitsForFlood = waitsForFlood
    }

    /// `? ` and the stripped line.
    public static func invalid(_ line: [UInt8]) -> Reply { Reply(bytes: Replies.invalid(line)) }
}
