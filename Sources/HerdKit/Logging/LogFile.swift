#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An append-only log file with a 64 KiB stdio buffer, flushed by the server every quarter second and on stop,
/// so logging every line costs no system call per line.
public final class LogFile: @unchecked Sendable {
    // @unchecked: `stream` is set once in init and closed once in deinit; between them stdio's own per-stream
    // lock (POSIX flockfile semantics) makes fputs and fflush safe from any thread.
    private let stream: UnsafeMutablePointer<FILE>
    public let path: String

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot open log file \(path): \(reason)" }
    }

    /// Opens (creating directories as needed) `path` for appending.
    public init(path: String) throws {
        Self.makeDirectories(for: path)
        guard let stream = fopen(path, "a") else {
            throw OpenError(path: path, reason: String(cString: strerror(errno)))
        }
        setvbuf(stream, nil, _IOFBF, 64 * 1024)
        self.stream = stream
        self.path = path
    }

    deinit {
        fclose(stream)
    }

    public func write(_ line: String) {
        fputs(line, stream)
    }

    public func write(bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, stream) }
    }

    public func flush() {
        fflush(stream)
    }

    private static func makeDirectories(for path: String) {
        var prefix = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        for (index, part) in parts.enumerated() {
            prefix += (index == 0 ? "" : "/") + part
            if !prefix.isEmpty { mkdir(prefix, 0o755) }
        }
    }
}
