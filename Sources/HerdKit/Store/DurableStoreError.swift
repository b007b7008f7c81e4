import Foundation

/// Why a ``DurableStore`` could not open its journal or keep it up to date. Each case names the file (and
/// the line, for a damaged journal) so a person can repair or move it.
public enum DurableStoreError: Error, CustomStringConvertible, Equatable {
    /// An entry before the last one fails its checksum or cannot be read: not a crash mid-write but damage,
    /// so the store refuses to guess. Restore the file from a backup, or move it away to start empty.
    case corruptJournal(path: String, line: Int, reason: String)
    /// The journal was written by a newer herd.
    case unsupportedVersion(path: String, found: Int, supported: Int)
    /// A system call on the journal failed.
    case io(path: String, operation: String, errno: Int32)
    /// Another process (or another store in this one) has the directory open.
    case inUse(directory: String)
    /// The store was closed; it takes no more changes.
    case stopped(directory: String, sequence: UInt64)

    public var description: String {
        switch self {
        case .corruptJournal(let path, let line, let reason):
            return "journal \(path) line \(line) is damaged: \(reason); restore it from a backup or move it away"
        case .unsupportedVersion(let path, let found, let supported):
            return "journal \(path) has format version \(found), but this herd reads only up to \(supported)"
        case .io(let path, let operation, let errno):
            return "\(operation) \(path) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .inUse(let directory):
            return "store directory \(directory) is in use by another server (its lock file is held)"
        case .stopped(let directory, let sequence):
            return "the durable store in \(directory) is closed (its last change was \(sequence))"
        }
    }
}
