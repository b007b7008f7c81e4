import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A plain blocking TCP client that writes lines and reads replies: the validation's probe of a real herd,
/// kept simple so its own delay is a socket round trip and nothing more.
final class BlockingLineClient {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(host: String, port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CommandFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw CommandFailure("cannot connect to \(host):\(port): \(reason)")
        }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw CommandFailure("send failed: \(String(cString: strerror(errno)))") }
            sent += count
        }
    }

    /// The next line, without its LF.
    func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeSubrange(...end)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw CommandFailure("the connection closed") }
            buffer += chunk[..<count]
        }
    }

    /// Reads until an empty line (the end of a WHATSAT answer) and returns the first line.
    func readAnswer() throws -> String {
        let first = try readLine()
        if first.hasPrefix("?") { return first }
        while try !readLine().isEmpty {}
        return first
    }

    /// `GET path` over HTTP/1.0 on a connection of its own; the body.
    static func get(host: String, port: Int, path: String) throws -> String {
        let client = try BlockingLineClient(host: host, port: port)
        try client.send("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n")
        var lines: [String] = []
        while let line = try? client.readLine() { lines.append(line) }
        guard let blank = lines.firstIndex(where: { $0 == "\r" || $0.isEmpty }) else { return "" }
        return lines[(blank + 1)...].joined(separator: "\n")
    }

    /// A port nobody listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw CommandFailure("cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
