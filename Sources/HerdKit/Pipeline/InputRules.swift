/// The server's own bounds on what a line may carry, beyond the protocol's syntax: they depend on the
/// server's clock and configuration, so the parse and store stages read them from the context.
public struct InputRules: Sendable {
    /// How far ahead of the server's clock a client time may be (PROTOCOL.md section 2): a report dated in the
    /// future would otherwise win against every later real one.
    public var maximumTimeAhead: Duration
    /// Longest client id stored or asked about.
    public var maximumClientIDBytes: Int
    /// Most clients the store keeps; a new client beyond it is refused (known clients still update).
    public var maximumClients: Int
    /// The servers a peer's AT line may name as its origin; nil accepts any name.
    public var herdMembers: Set<String>? {
        didSet { membersByLength = Self.index(herdMembers) }
    }
    private var membersByLength: [Int: [[UInt8]]]?

    public init(
        maximumTimeAhead: Duration = .seconds(300), maximumClientIDBytes: Int = 256,
        maximumClients: Int = 10_000_000, herdMembers: Set<String>? = nil
    ) {
        self.maximumTimeAhead = maximumTimeAhead
        self.maximumClientIDBytes = maximumClientIDBytes
        self.maximumClients = maximumClients
        self.herdMembers = herdMembers
        self.membersByLength = Self.index(herdMembers)
    }

    private static func index(_ members: Set<String>?) -> [Int: [[UInt8]]]? {
        members.map { Dictionary(grouping: $0.map { Array($0.utf8) }, by: \.count) }
    }

    /// Whether `name` (a server field of an AT line) is a member of the herd.
    func isMember(_ name: ArraySlice<UInt8>) -> Bool {
        guard let membersByLength else { return true }
        return membersByLength[name.count]?.contains { $0.elementsEqual(name) } ?? false
    }

    /// Whether `time` is later than `now` plus the allowed lead.
    func isTooFarAhead(_ time: ClientTime, of now: WallTime) -> Bool {
        guard !time.isNegative else { return false }
        let (leadSeconds, leadAttoseconds) = maximumTimeAhead.components
        var limitSeconds = Int128(now.seconds) + Int128(leadSeconds)
        var limitNanoseconds = Int128(now.nanoseconds) + Int128(leadAttoseconds / 1_000_000_000)
        if limitNanoseconds >= 1_000_000_000 {
            limitSeconds += 1
            limitNanoseconds -= 1_000_000_000
        }
        let seconds = Int128(time.seconds)
        if seconds != limitSeconds { return seconds > limitSeconds }
        let nanoseconds = Int128(time.nanoseconds)
        if nanoseconds != limitNanoseconds { return nanoseconds > limitNanoseconds }
        return !time.subnanoDigits.isEmpty
    }
}
