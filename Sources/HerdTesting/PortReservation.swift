#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Loopback ports held for a child process that will listen on them.
///
/// Picking a free port and closing it before the child binds is a race: another process may take it in
/// between. Instead each port stays bound here (with `SO_REUSEADDR`, never listening) until ``release()``:
/// no one else can bind it and the kernel hands it to no one, yet a child that also sets `SO_REUSEADDR` (as
/// every herd listener does) can bind and listen on it. Release once the child is listening.
public final class PortReservation: Sendable {
    public let ports: [Int]
    private let sockets: [Int32]

    public init(count: Int) throws {
        var sockets: [Int32] = []
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw RawClient.Failure(description: "socket: \(String(cString: strerror(errno)))") }
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            var address = RawClient.loopback(port: 0)
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
                for open in sockets { close(open) }
                throw RawClient.Failure(description: "bind: \(reason)")
            }
            sockets.append(fd)
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        self.ports = ports
        self.sockets = sockets
    }

    /// Lets go of the ports (the child holds them now). Safe to call more than once.
    public func release() {
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    deinit {
        for fd in sockets { close(fd) }
    }
}
