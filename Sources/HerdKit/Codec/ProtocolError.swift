/// Why a line is not a valid command. The client only sees `? ` and its line; the reason goes to the log.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
