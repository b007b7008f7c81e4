/// One outgoing peer link as its server sees it: for operators (`herd status`) and for tests that wait for
/// a herd to go quiet.
public struct PeerLinkState: Sendable, Hashable {
    public var neighbour: String
    /// The link has finished its hello and is sending the change feed.
    public var isUp: Bool
    /// The feed position written to the neighbour.
    public var sent: UInt64
    /// The feed position the neighbour has acknowledged.
    public var acknowledged: UInt64
    /// The store's latest sequence number.
    public var latest: UInt64
    /// The neighbour missed the flood timeout and is not waited for until it catches up.
    public var isLagging: Bool

    public init(
        neighbour: String, isUp: Bool, sent: UInt64, acknowledged: UInt64, latest: UInt64, isLagging: Bool
    ) {
        self.neighbour = neighbour
        self.isUp = isUp
        self.sent = sent
        self.acknowledged = acknowledged
        self.latest = latest
        self.isLagging = isLagging
    }

    /// Updates of this server's feed the neighbour has not acknowledged yet.
    public var lag: UInt64 { latest > acknowledged ? latest - acknowledged : 0 }

    /// Whether the neighbour holds everything this server has to send it.
    public var isCaughtUp: Bool { isUp && acknowledged >= latest }
}
