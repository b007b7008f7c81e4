import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An append-only log file with a 64 KiB stdio buffer, flushed by the server every quarter second and on stop,
/// so logging every line costs no system call per line. The path `-` is standard error (for containers and
/// service managers); ``reopenAll()`` reopens every file by its path (SIGHUP, after logrotate moved it).
public final class LogFile: @unchecked Sendable {
    // @unchecked: `stream` is set once in init and closed once in deinit; between them stdio's own per-stream
    // lock (POSIX flockfile semantics) makes fputs, fflush and freopen safe from any thread.
    private let stream: UnsafeMutablePointer<FILE>
    public let path: String

    /// The path that means standard error.
    public static let standardErrorPath = "-"

    private final class Weak: @unchecked Sendable {
        // @unchecked: `file` is only read or cleared while `LogFile.open`'s lock is held.
        weak var file: LogFile?
        init(_ file: LogFile) { self.file = file }
    }

    private static let open = Mutex<[ObjectIdentifier: Weak]>([:])

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot open log file \(path): \(reason)" }
    }

    /// Opens (creating directories as needed) `path` for appending.
    public init(path: String) throws {
        let opened: UnsafeMutablePointer<FILE>?
        if path == Self.standardErrorPath {
            opened = fdopen(dup(2), "a")
        } else {
            Self.makeDirectories(for: path)
            opened = fopen(path, "a")
        }
        guard let stream = opened else {
            throw OpenError(path: path, reason: String(cString: strerror(errno)))
        }
        setvbuf(stream, nil, _IOFBF, 64 * 1024)
        self.stream = stream
        self.path = path
        let weak = Weak(self)
        Self.open.withLock { $0[ObjectIdentifier(self)] = weak }
    }

    deinit {
        Self.open.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(self)) }
        fclose(stream)
    }

    /// Flushes and reopens the file at its path, so writes go to a new file once the old one was moved away.
    public func reopen() throws {
        guard path != Self.standardErrorPath else { return }
        fflush(stream)
        Self.makeDirectories(for: path)
        guard freopen(path, "a", stream) != nil else {
            throw OpenError(path: path, reason: String(cString: strerror(errno)))
        }
        setvbuf(stream, nil, _IOFBF, 64 * 1024)
    }

    /// Reopens every log file of the process; returns the failures (the file keeps its old stream).
    @discardableResult
    public static func reopenAll() -> [any Error] {
        let files = open.withLock { $0.values.compactMap(\.file) }
        var failures: [any Error] = []
        for file in files {
            do { try file.reopen() } catch { failures.append(error) }
        }
        return failures
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
