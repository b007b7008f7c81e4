/// A client's identifier: any non-white-space bytes, compared byte for byte (PROTOCOL.md section 2).
///
/// The bytes are a slice of the line they came in, so a parsed message shares one copy of its line.
public struct ClientID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: ArraySlice<UInt8>

    public init(_ bytes: some Sequence<UInt8>) {
        self.bytes = ArraySlice(bytes)
    }

    public init(_ text: String) {
        self.bytes = ArraySlice(text.utf8)
    }

    init(slice: ArraySlice<UInt8>) {
        self.bytes = slice
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public static func == (lhs: ClientID, rhs: ClientID) -> Bool {
        lhs.bytes.elementsEqual(rhs.bytes)
    }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
