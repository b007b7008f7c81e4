import NIOCore

/// What a pipeline sends back for one line: the bytes of one reply, written to the client in one write, and
/// what (if anything) they must wait for before they may be written.
public struct Reply: Sendable, Equatable {
    enum Content: Sendable, Equatable {
        /// A one-line reply: these bytes and a LF (an AT line, shared with the store rather than copied).
        case line([UInt8])
        case bytes([UInt8])
    }

    var content: Content
    /// Holds the reply back until something has happened, for example until the neighbours acknowledged
    /// the update it confirms (set by the flood stage, PROTOCOL.md section 5).
    public var hold: ReplyHold?

    public init(bytes: [UInt8], hold: ReplyHold? = nil) {
        self.content = .bytes(bytes)
        self.hold = hold
    }

    /// A reply of one line: `line` and a LF.
    public static func line(_ line: [UInt8]) -> Reply {
        Reply(content: .line(line), hold: nil)
    }

    private init(content: Content, hold: ReplyHold?) {
        self.content = content
        self.hold = hold
    }

    /// Whether this is a `? ` answer.
    public var isInvalid: Bool {
        if case .bytes(let bytes) = content { return bytes.first == ASCII.questionMark }
        return false
    }

    /// `? ` and the stripped line.
    public static func invalid(_ line: some Collection<UInt8>) -> Reply { Reply(bytes: Replies.invalid(line)) }

    /// The bytes as written, LF included.
    public var bytes: [UInt8] {
        switch content {
        case .line(let line): line + [ASCII.lineFeed]
        case .bytes(let bytes): bytes
        }
    }

    /// How many bytes the reply writes.
    public var count: Int {
        switch content {
        case .line(let line): line.count + 1
        case .bytes(let bytes): bytes.count
        }
    }

    /// Appends the reply's bytes to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        switch content {
        case .line(let line):
            buffer.writeBytes(line)
            buffer.writeInteger(ASCII.lineFeed)
        case .bytes(let bytes):
            buffer.writeBytes(bytes)
        }
    }

    /// The same reply, also held by `hold` (when not nil).
    public func holding(until hold: ReplyHold?) -> Reply {
        guard let hold else { return self }
        var copy = self
        copy.hold = copy.hold.map { $0.combined(with: hold) } ?? hold
        return copy
    }
}
