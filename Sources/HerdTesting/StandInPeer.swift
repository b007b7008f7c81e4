import Foundation
import HerdKit
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A stand-in neighbour on a loopback port, speaking the peer protocol by hand, so a test can make a
/// neighbour do what a real one would not: acknowledge at once, never acknowledge, never read.
///
/// It accepts links, answers the hello with `EPOCH` (after the shared-secret challenge when given
/// ``Authentication``), records every line it gets, and acknowledges them as its ``Behaviour`` says. Uses
/// none of the project's code but ``PeerProof``; call ``stop()`` when done.
public final class StandInPeer: Sendable {
    public enum Behaviour: Sendable {
        /// `ACK n` after every read, as soon as the lines are in.
        case acknowledgeAtOnce
        /// Reads and records, never acknowledges.
        case neverAcknowledge
        /// Answers the hello, then never reads again (a server that hangs with its socket open).
        case stopReadingAfterHello
        /// Closes every link as soon as its hello arrives (a neighbour that accepts and then refuses).
        case refuseEveryHello
    }

    /// The server the stand-in plays and where the herd's peer secret comes from (asked at each link, so
    /// it may appear after the stand-in starts, as a machine secret does).
    public struct Authentication: Sendable {
        public var name: String
        public var secret: @Sendable () throws -> PeerSecret
        public init(name: String, secret: @escaping @Sendable () throws -> PeerSecret) {
            self.name = name
            self.secret = secret
        }
    }

    public let port: Int
    private let listener: Int32
    private let behaviour: Behaviour
    private let epoch: UInt64
    private let authentication = Mutex<Authentication?>(nil)
    private let state = Mutex<(connections: [RawConnection], hellos: [String], lines: [String])>(([], [], []))

    public init(behaviour: Behaviour, epoch: UInt64 = 7) throws {
        self.behaviour = behaviour
        self.epoch = epoch
        (listener, port) = try RawClient.boundSocket()
        guard listen(listener, 64) == 0 else {
            throw RawClient.Failure(description: "listen: \(String(cString: strerror(errno)))")
        }
        Thread { [self] in
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { return }
                let connection = RawConnection(descriptor: fd)
                state.withLock { $0.connections.append(connection) }
                Thread { [self] in serve(connection) }.start()
            }
        }.start()
    }

    private func serve(_ connection: RawConnection) {
        guard let hello = try? connection.readLine() else { return }
        state.withLock { $0.hellos.append(hello) }
        if case .refuseEveryHello = behaviour {
            shutdown(connection.fd, Int32(SHUT_RDWR))
            return
        }
        guard let answer = try? answerHello(hello, on: connection) else { return }
        guard (try? connection.write(answer)) != nil else { return }
        if case .stopReadingAfterHello = behaviour { return }
        var count = 0
        while let line = try? connection.readLine() {
            count += 1
            state.withLock { $0.lines.append(line) }
            if case .acknowledgeAtOnce = behaviour, !connection.hasBufferedLine {
                guard (try? connection.write("ACK \(count)\n")) != nil else { return }
            }
        }
    }

    /// The `EPOCH` line for a hello, after the challenge when the stand-in authenticates.
    private func answerHello(_ hello: String, on connection: RawConnection) throws -> String {
        guard let authentication = authentication.withLock({ $0 }) else { return "EPOCH \(epoch)\n" }
        let fields = hello.split(separator: " ").map(String.init)
        guard fields.count == 3 else { throw RawClient.Failure(description: "no nonce in \(hello)") }
        let secret = try authentication.secret()
        let nonce = PeerProof.nonce()
        try connection.write("CHALLENGE \(nonce)\n")
        guard let proof = try connection.readLine(), proof.hasPrefix("PROOF ") else {
            throw RawClient.Failure(description: "no proof")
        }
        let mine = PeerProof.listener(
            secret, dialler: fields[1], listener: authentication.name, diallerNonce: fields[2], listenerNonce: nonce,
            epoch: epoch)
        return "EPOCH \(epoch) \(mine)\n"
    }

    /// Makes the stand-in answer hellos with the shared-secret challenge, as the server `name` would.
    public func authenticate(_ authentication: Authentication) {
        self.authentication.withLock { $0 = authentication }
    }

    /// Links accepted so far.
    public var connectionCount: Int { state.withLock { $0.connections.count } }
    /// The hello lines received, in order.
    public var hellos: [String] { state.withLock { $0.hellos } }
    /// Every line received after a hello, in order.
    public var lines: [String] { state.withLock { $0.lines } }

    /// Closes the listener and every link.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        let connections = state.withLock { state in
            defer { state.connections = [] }
            return state.connections
        }
        for connection in connections { shutdown(connection.fd, Int32(SHUT_RDWR)) }
    }
}
