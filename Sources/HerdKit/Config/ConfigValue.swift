/// A value from the config file as written, with where it was, for the options of stages, providers and
/// transports: each part reads its own keys and errors still name the file, key and line.
public indirect enum ConfigValue: Sendable, Hashable {
    case scalar(String, line: Int?)
    case list([ConfigValue], line: Int?)
    case map([String: ConfigValue], line: Int?)

    public var line: Int? {
        switch self {
        case .scalar(_, let line), .list(_, let line), .map(_, let line): line
        }
    }
}

/// The options of one component (`provider.options`, a transport's or a stage's options), with typed
/// accessors whose errors name the key.
public struct ConfigOptions: Sendable, Hashable {
    public let values: [String: ConfigValue]
    /// Key path of these options in the file, as in `provider.options`.
    public let keyPath: String
    public let file: String
    /// Directory that relative paths are resolved against (the config file's).
    public let baseDirectory: String
    /// Line of the mapping itself, when known: errors about a key that is missing point here.
    public let line: Int?

    public init(
        values: [String: ConfigValue] = [:], keyPath: String, file: String, baseDirectory: String, line: Int? = nil
    ) {
        self.values = values
        self.keyPath = keyPath
        self.file = file
        self.baseDirectory = baseDirectory
        self.line = line
    }

    public func error(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(
            file: file, key: keyPath.isEmpty ? key : "\(keyPath).\(key)", line: values[key]?.line ?? line,
            reason: reason)
    }

    /// Fails on keys the component does not know, so a typo is an error rather than silently ignored.
    public func allowOnly(_ keys: Set<String>) throws(ConfigError) {
        for key in values.keys.sorted() where !keys.contains(key) {
            throw error(
                key,
                keys.isEmpty
                    ? "unknown key; this part takes no options"
                    : "unknown key; expected one of: \(keys.sorted().joined(separator: ", "))")
        }
    }

    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = values[key] else { return nil }
        guard case .scalar(let text, _) = value else { throw error(key, "expected a single value") }
        return text
    }

    public func int(_ key: String, in range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text) else { throw error(key, "expected an integer, got '\(text)'") }
        if let range, !range.contains(number) {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    public func double(_ key: String, in range: ClosedRange<Double>? = nil) throws(ConfigError) -> Double? {
        guard let text = try string(key) else { return nil }
        guard let number = Double(text), number.isFinite else { throw error(key, "expected a number, got '\(text)'") }
        if let range, !range.contains(number) {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(text)")
        }
        return number
    }

    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "expected true or false, got '\(text)'")
        }
    }

    /// A file path; relative paths are taken from the config file's directory.
    public func path(_ key: String) throws(ConfigError) -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw error(key, "expected a path, got an empty value") }
        return ConfigPaths.resolve(text, against: baseDirectory)
    }

    public func stringList(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = values[key] else { return nil }
        guard case .list(let items, _) = value else { throw error(key, "expected a list") }
        var strings: [String] = []
        for item in items {
            guard case .scalar(let text, _) = item else { throw error(key, "expected a list of single values") }
            strings.append(text)
        }
        return strings
    }

    /// A list of mappings, such as a stage's `areas: [{name: campus, ...}, ...]`: each item as options of its
    /// own, whose errors name `KEY[INDEX].FIELD` and the item's line; nil when the key is absent.
    public func optionsList(_ key: String) throws(ConfigError) -> [ConfigOptions]? {
        guard let value = values[key] else { return nil }
        guard case .list(let items, _) = value else { throw error(key, "expected a list") }
        let path = keyPath.isEmpty ? key : "\(keyPath).\(key)"
        var list: [ConfigOptions] = []
        for (index, item) in items.enumerated() {
            guard case .map(let members, let line) = item else {
                throw ConfigError(
                    file: file, key: "\(path)[\(index)]", line: item.line ?? value.line,
                    reason: "expected a mapping of keys to values")
            }
            list.append(
                ConfigOptions(
                    values: members, keyPath: "\(path)[\(index)]", file: file, baseDirectory: baseDirectory, line: line)
            )
        }
        return list
    }

    public func options(_ key: String) throws(ConfigError) -> ConfigOptions {
        let path = keyPath.isEmpty ? key : "\(keyPath).\(key)"
        guard let value = values[key] else {
            return ConfigOptions(keyPath: path, file: file, baseDirectory: baseDirectory, line: line)
        }
        guard case .map(let members, let line) = value else {
            throw error(key, "expected a mapping of keys to values")
        }
        return ConfigOptions(values: members, keyPath: path, file: file, baseDirectory: baseDirectory, line: line)
    }
}

/// Resolving the paths a config names.
public enum ConfigPaths {
    public static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }
}
