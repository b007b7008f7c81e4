/// A client's identifier: any run of non-white-space bytes, compared byte for byte (it need not be UTF-8).
public struct ClientID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ bytes: some Sequence<UInt8>) {
        self.bytes = Array(bytes)
    }

    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
