import Foundation
import HerdKit

/// Where audit entries go. ``AuditLog`` writes them to a file; a test can hold them in memory.
public protocol AuditSink: Sendable {
    /// Records `entry`; a throw refuses the report it describes.
    func append(_ entry: AuditEntry) async throws
}

/// One client report, as audited.
public struct AuditEntry: Sendable, Hashable, CustomStringConvertible {
    /// The server that took the report.
    public var server: String
    /// The client's address.
    public var client: String
    public var receivedAt: WallTime
    /// The IAMAT line as the client sent it.
    public var line: String

    public init(server: String, client: String, receivedAt: WallTime, line: String) {
        self.server = server
        self.client = client
        self.receivedAt = receivedAt
        self.line = line
    }

    /// `1621464828.223372036 Alford 127.0.0.1:53412 IAMAT kiwi ...`: one line of the audit file.
    public var description: String {
        let nanoseconds = String(receivedAt.nanoseconds)
        let time = "\(receivedAt.seconds)." + String(repeating: "0", count: 9 - nanoseconds.count) + nanoseconds
        return "\(time) \(server) \(client) \(line)"
    }
}

/// An append-only audit file, one entry per line. An actor, so the reports of every connection are written
/// one at a time, whole, in the order they arrive.
public actor AuditLog: AuditSink {
    public nonisolated let path: String
    private let file: FileHandle

    /// Opens (or creates) the file at `path` for appending; its directory is created if need be.
    public init(path: String) throws(AuditLogError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw AuditLogError(description: "cannot create \(directory): \(error.localizedDescription)")
        }
        // O_APPEND: every write lands at the end, whole, even with another process appending too.
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw AuditLogError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// One small write to a local file, on the actor (never on the server's event loop). A log on slow
    /// storage, or one that must fsync each entry, would do its writes on a thread pool of its own instead.
    public func append(_ entry: AuditEntry) throws {
        try file.write(contentsOf: Data((entry.description + "\n").utf8))
    }
}

/// Why the audit file cannot be used.
public struct AuditLogError: Error, CustomStringConvertible {
    public let description: String
}
