import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking TCP connection that stays open between requests, for tests that hold connections, read line by
/// line, or stop reading on purpose. Uses none of the project's code. Call from a thread of its own (see
/// ``onThread(_:)``), never on the cooperative pool.
public final class RawConnection: @unchecked Sendable {
    // @unchecked: the descriptor is used by one thread at a time, as each test's steps run in turn.
    public let fd: Int32
    private var buffered: [UInt8] = []

    /// Connects to `127.0.0.1:port` with a 10 s receive timeout.
    public convenience init(port: Int) throws {
        self.init(descriptor: try RawClient.openConnections(port: port, count: 1)[0])
    }

    /// Connects to `host:port` (an IPv4 address) with a 10 s receive timeout.
    public convenience init(host: String, port: Int) throws {
        self.init(descriptor: try RawClient.openConnections(host: host, port: port, count: 1)[0])
    }

    /// Adopts a connected (or accepted) socket, with a 10 s receive timeout.
    public init(descriptor fd: Int32) {
        self.fd = fd
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Half-closes: the other side reads end of input after what was written.
    public func finishWriting() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Every byte until the other side closes.
    public func readToEnd() throws -> [UInt8] {
        var received = buffered
        buffered = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno == ECONNRESET) { return received }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN ? "timed out" : String(cString: strerror(errno))
                throw RawClient.Failure(description: "recv: \(reason)")
            }
            received.append(contentsOf: chunk[..<count])
        }
    }

    /// Writes all of `text`, blocking while the peer's window is full.
    public func write(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Self.noSignal) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RawClient.Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(count)
        }
    }

    /// Writes as much of `bytes` as the socket takes without blocking; the count written (0 when full).
    public func writeWithoutBlocking(_ bytes: [UInt8]) throws -> Int {
        let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Self.noSignal | Int32(MSG_DONTWAIT)) }
        if count >= 0 { return count }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
        throw RawClient.Failure(description: "send: \(String(cString: strerror(errno)))")
    }

    /// Whether a complete line is already read and waiting.
    public var hasBufferedLine: Bool { buffered.contains(UInt8(ascii: "\n")) }

    /// The next line without its LF; nil at end of input.
    public func readLine() throws -> String? {
        while true {
            if let end = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<end], as: UTF8.self)
                buffered.removeSubrange(...end)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno == ECONNRESET) { return nil }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN ? "timed out" : String(cString: strerror(errno))
                throw RawClient.Failure(description: "recv: \(reason)")
            }
            buffered.append(contentsOf: chunk[..<count])
        }
    }

    /// Runs blocking socket work on a thread of its own.
    public static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    private static var noSignal: Int32 {
        #if canImport(Darwin)
            0
        #else
            Int32(MSG_NOSIGNAL)
        #endif
    }
}
