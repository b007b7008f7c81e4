import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A deliberately tiny TCP client that uses none of the project's code: it sends bytes, half-closes its side,
/// reads to end of input and returns exactly the bytes the server wrote.
///
/// The blocking socket calls run on a thread of their own, never on the cooperative pool.
public enum RawClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Sends `text` to `127.0.0.1:port` and returns every byte written back, decoded as UTF-8.
    public static func exchange(port: Int, _ text: String) async throws -> String {
        String(decoding: try await exchange(port: port, bytes: Array(text.utf8)), as: UTF8.self)
    }

    /// Sends `bytes` to `127.0.0.1:port`, half-closes, and returns every byte written back.
    public static func exchange(port: Int, bytes: [UInt8]) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try blockingExchange(port: port, bytes: bytes) })
            }
            thread.start()
        }
    }

    /// Connects to every port first, then on each connection in turn sends its bytes, half-closes and reads to
    /// end of input, with no delay between one reply and the next request (all on one thread).
    public static func exchangeInTurn(_ steps: [(port: Int, bytes: [UInt8])]) async throws -> [[UInt8]] {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        let sockets = try steps.map { try connected(port: $0.port) }
                        defer { for fd in sockets { close(fd) } }
                        return try zip(sockets, steps).map { try exchange(on: $0, port: $1.port, bytes: $1.bytes) }
                    })
            }
            thread.start()
        }
    }

    private static func blockingExchange(port: Int, bytes: [UInt8]) throws -> [UInt8] {
        let fd = try connected(port: port)
        defer { close(fd) }
        return try exchange(on: fd, port: port, bytes: bytes)
    }

    /// A socket connected to `127.0.0.1:port`, with 10 s send and receive timeouts.
    private static func connected(port: Int) throws -> Int32 {
        let fd = try tcpSocket()

        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        let timeoutSize = socklen_t(MemoryLayout<timeval>.size)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, timeoutSize)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, timeoutSize)

        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "connect to port \(port): \(reason)")
        }
        return fd
    }

    /// Sends `bytes` on `fd`, half-closes, and reads to end of input.
    private static func exchange(on fd: Int32, port: Int, bytes: [UInt8]) throws -> [UInt8] {
        var sent = 0
        sending: while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress, buffer.count, noSignal)
            }
            if count < 0 {
                if errno == EINTR { continue }
                // The server may close early (an overlong line); what it wrote before is still readable.
                if errno == EPIPE || errno == ECONNRESET { break sending }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            sent += count
        }
        #if canImport(Darwin)
            shutdown(fd, SHUT_WR)
        #else
            shutdown(fd, Int32(SHUT_WR))
        #endif

        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return received }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return received }
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : String(cString: strerror(errno))
                throw Failure(
                    description: "recv from port \(port): \(reason) after \(received.count) bytes: "
                        + String(decoding: received, as: UTF8.self))
            }
            received.append(contentsOf: chunk[..<count])
        }
    }

    private static var noSignal: Int32 {
        #if canImport(Darwin)
            0
        #else
            Int32(MSG_NOSIGNAL)
        #endif
    }

    public static func loopback(port: Int) -> sockaddr_in {
        address(host: "127.0.0.1", port: port)
    }

    /// The IPv4 address `host` (dotted quad) with `port`.
    public static func address(host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }

    /// A TCP socket bound to a free loopback port and not listening: connections to that port are refused
    /// for as long as the socket stays open. The caller closes it. With `reuseAddress`, a process that also
    /// sets `SO_REUSEADDR` can bind the port beside it (see ``PortReservation``).
    public static func boundSocket(reuseAddress: Bool = false) throws -> (fd: Int32, port: Int) {
        let fd = try tcpSocket()
        if reuseAddress {
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "bind: \(reason)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A new IPv4 TCP socket.
    static func tcpSocket() throws -> Int32 {
        #if canImport(Darwin)
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Opens `count` connections to `host:port` (an IPv4 address, loopback unless given) at once and returns
    /// them open; close them with `closeAll`.
    public static func openConnections(host: String = "127.0.0.1", port: Int, count: Int) throws -> [Int32] {
        var sockets: [Int32] = []
        for _ in 0..<count {
            guard let fd = try? tcpSocket() else { break }
            var target = address(host: host, port: port)
            let connected = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if connected != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                closeAll(sockets)
                throw Failure(description: "connect to \(host):\(port): \(reason)")
            }
            sockets.append(fd)
        }
        return sockets
    }

    public static func closeAll(_ sockets: [Int32]) {
        for fd in sockets { close(fd) }
    }
}
