import Foundation

/// The few POSIX file operations a journal needs, each turning a failure into a ``DurableStoreError`` that
/// names the file. A value type around a descriptor: whoever holds it closes it once.
struct JournalFile: Sendable {
    let path: String
    let descriptor: Int32

    /// Opens `path` for appending, creating it (empty) if `create` is set.
    static func openForAppend(_ path: String, create: Bool = false) throws(DurableStoreError) -> JournalFile {
        let flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw DurableStoreError.io(path: path, operation: "open", errno: errno) }
        return JournalFile(path: path, descriptor: descriptor)
    }

    /// Writes all of `bytes`: one `write(2)` unless the kernel takes less.
    func write(_ bytes: [UInt8]) throws(DurableStoreError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw DurableStoreError.io(path: path, operation: "write", errno: errno)
            }
            written += result
        }
    }

    /// The file's length now (its end, as appends see it).
    func length() throws(DurableStoreError) -> Int {
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw DurableStoreError.io(path: path, operation: "seek", errno: errno) }
        return Int(end)
    }

    /// Cuts the file back to `length`: a failed write must not leave half an entry for the next one to follow.
    func truncate(to length: Int) throws(DurableStoreError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw DurableStoreError.io(path: path, operation: "truncate", errno: errno)
        }
    }

    func sync() throws(DurableStoreError) {
        guard fsync(descriptor) == 0 else { throw DurableStoreError.io(path: path, operation: "fsync", errno: errno) }
    }

    func close() {
        _ = Foundation.close(descriptor)
    }

    /// The whole file; nil if it does not exist.
    static func contents(of path: String) throws(DurableStoreError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw DurableStoreError.io(path: path, operation: "open", errno: errno)
        }
        defer { _ = Foundation.close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw DurableStoreError.io(path: path, operation: "read", errno: errno)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    static func truncate(_ path: String, to length: Int) throws(DurableStoreError) {
        guard Foundation.truncate(path, off_t(length)) == 0 else {
            throw DurableStoreError.io(path: path, operation: "truncate", errno: errno)
        }
    }

    /// Replaces `destination` with `source` in one step.
    static func rename(_ source: String, over destination: String) throws(DurableStoreError) {
        guard Foundation.rename(source, destination) == 0 else {
            throw DurableStoreError.io(path: destination, operation: "rename \(source) over", errno: errno)
        }
    }

    static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Makes a rename or a new file in `directory` survive a machine crash.
    static func syncDirectory(_ directory: String) throws(DurableStoreError) {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DurableStoreError.io(path: directory, operation: "open", errno: errno) }
        defer { _ = Foundation.close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw DurableStoreError.io(path: directory, operation: "fsync", errno: errno)
        }
    }

    /// Creates `directory` and its parents if missing.
    static func makeDirectory(_ directory: String) throws(DurableStoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DurableStoreError.io(path: directory, operation: "create directory", errno: EIO)
        }
    }

    /// Takes an exclusive lock on `path` (created if missing) so two stores never share a journal. The
    /// lock lasts until the returned file is closed.
    static func lock(_ path: String, directory: String) throws(DurableStoreError) -> JournalFile {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DurableStoreError.io(path: path, operation: "open", errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            _ = Foundation.close(descriptor)
            if code == EWOULDBLOCK { throw DurableStoreError.inUse(directory: directory) }
            throw DurableStoreError.io(path: path, operation: "lock", errno: code)
        }
        return JournalFile(path: path, descriptor: descriptor)
    }
}
