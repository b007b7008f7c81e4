import NIOCore

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

    /// The line as framed, without its LF: a slice of the buffer it was read into.
    public var line: ByteBuffer
    public var origin: Origin
    public var receivedAt: WallTime
    /// Set by the parse stage.
    public var message: Message?
    /// For IAMAT and AT: the AT line that is replied, stored and flooded (set by the parse stage).
    public var update: ATLine?
    /// Set by dedupe (and corrected by store).
    public var freshness: Freshness = .unknown
    /// True once the store stage has kept `update`; only stored updates are flooded.
    public var stored = false
    /// The store's sequence number for `update` once stored (see ``LocationStore``).
    public var sequence: UInt64?

    public init(line: ByteBuffer, origin: Origin, receivedAt: WallTime) {
        self.line = line
        self.origin = origin
        self.receivedAt = receivedAt
    }

    /// An envelope for `line` (tests, tools): the bytes are copied into a buffer of their own.
    public init(line: some Collection<UInt8>, origin: Origin, receivedAt: WallTime) {
        self.init(line: ByteBuffer(bytes: line), origin: origin, receivedAt: receivedAt)
    }
}
