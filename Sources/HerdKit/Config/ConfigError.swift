/// A configuration problem, naming the file, the key and what is wrong, so it can be fixed without guessing.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The config file (or `<built-in default>`).
    public var file: String
    /// The key path, as in `servers[2].client_port`.
    public var key: String
    /// The line in the file, when known.
    public var line: Int?
    public var reason: String

    public init(file: String, key: String, line: Int? = nil, reason: String) {
        self.file = file
        self.key = key
        self.line = line
        self.reason = reason
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(reason)" : "\(location): \(key): \(reason)"
    }
}
