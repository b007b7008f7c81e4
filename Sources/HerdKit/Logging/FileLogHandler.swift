import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler that writes one timestamped line per record to a ``LogFile``:
/// `2026-11-25T19:22:00.123456Z info Alford: message key=value`, or with ``LogFormat/json``
/// `{"time":"...","level":"info","server":"Alford","message":"...","key":"value"}`.
public struct FileLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let file: LogFile
    private let label: String
    private let format: LogFormat

    public init(label: String, file: LogFile, level: Logger.Level = .info, format: LogFormat = .text) {
        self.label = label
        self.file = file
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if format == .json {
            var text = "{\"time\":\"\(Self.timestamp())\",\"level\":\"\(event.level)\",\"server\":"
            text += LogFormat.jsonString(label) + ",\"message\":" + LogFormat.jsonString("\(event.message)")
            for (key, value) in merged.sorted(by: { $0.key < $1.key })
            where !["time", "level", "server", "message"].contains(key) {
                text += "," + LogFormat.jsonString(key) + ":" + LogFormat.jsonString("\(value)")
            }
            file.write(text + "}\n")
            return
        }
        var text = Self.timestamp()
        text += " \(event.level) \(label): \(event.message)"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            text += " \(key)=\(value)"
        }
        text += "\n"
        file.write(text)
    }

    /// UTC, microseconds, ISO 8601.
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var parts = tm()
        var seconds = spec.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let micros = String(spec.tv_nsec / 1000)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: 6 - micros.count) + micros + "Z"
    }
}
