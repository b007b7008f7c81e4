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
            do {
                let (fd, port) = try RawClient.boundSocket(reuseAddress: true)
                sockets.append(fd)
                ports.append(port)
            } catch {
                for open in sockets { close(open) }
                throw error
            }
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
