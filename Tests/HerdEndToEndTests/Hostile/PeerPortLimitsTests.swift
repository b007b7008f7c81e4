import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 12, item 6: the peer port is capped, gives each connection a deadline for its handshake, and a
    /// server out of file descriptors goes on serving the connections it has.
    @Suite("Peer port limits")
    struct PeerPortLimitsTests {
        @Test func silentPeerConnectionsAreCappedAndClosedAtTheHandshakeDeadline() async throws {
            try await withProcessHerd(
                names: ["Alford", "Parker"], links: [("Alford", "Parker")],
                extra: "limits: {max_peer_connections: 3, peer_handshake_timeout_ms: 1500}"
            ) { herd in
                try await herd.start("Alford")
                let port = herd.peerPorts["Alford"]!
                let silent = try (0..<3).map { _ in try RawConnection(port: port) }
                // The fourth is over the cap: closed at once, and logged.
                let fourth = try RawConnection(port: port)
                let closedAtOnce = try await RawConnection.onThread { try fourth.readToEnd() }
                #expect(closedAtOnce.isEmpty)
                _ = try await HostileClientTests.waitForLog(
                    herd, "Alford", containing: "3 peer connections already open")
                // The three that never say hello are closed at the deadline.
                for connection in silent {
                    let rest = try await RawConnection.onThread { try connection.readToEnd() }
                    #expect(rest.isEmpty)
                }
                let log = try await HostileClientTests.waitForLog(herd, "Alford", containing: "no complete handshake")
                #expect(log.components(separatedBy: "no complete handshake within").count - 1 == 3, "\(log)")
                // With them gone, a neighbour with the secret links.
                let answer = try await RawConnection.onThread {
                    try RawConnection(port: port).sayHello(as: "Parker", to: "Alford", secret: try herd.machineSecret())
                }
                #expect(answer?.hasPrefix("EPOCH ") == true, "\(String(describing: answer))")
            }
        }

        @Test func aServerOutOfFileDescriptorsKeepsServingAndDoesNotSpin() async throws {
            // herd serve with a soft limit of 64 descriptors.
            let wrapper = FileManager.default.temporaryDirectory.appendingPathComponent("herd-fd-limit-\(UUID()).sh")
            let herdPath = try Subprocess.herdExecutable().path
            try "#!/bin/sh\nulimit -n 64\nexec '\(herdPath)' \"$@\"\n".write(
                to: wrapper, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
            defer { try? FileManager.default.removeItem(at: wrapper) }
            try await withProcessHerd(names: ["Alford"], links: [], executable: wrapper) { herd in
                let process = try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                let first = try RawConnection(port: port)
                // More connections than descriptors: the kernel completes them, the server cannot accept them all.
                var crowd: [RawConnection] = []
                for _ in 0..<100 { crowd.append(try RawConnection(port: port)) }
                let cpuBefore = try ProcessStats.cpuSeconds(of: process)
                try await Task.sleep(for: .seconds(2))
                let cpuSpent = try ProcessStats.cpuSeconds(of: process) - cpuBefore
                // A server spinning on accept burns the whole 2 s; an idle one almost nothing.
                #expect(cpuSpent < 1.0, "the server used \(cpuSpent) s of CPU in 2 s while out of descriptors")
                let reply = try await RawConnection.onThread { () throws -> String? in
                    try first.write(Wire.iamat("while.full") + "\n")
                    return try first.readLine()
                }
                #expect(reply?.hasPrefix("AT Alford ") == true, "\(String(describing: reply))")
                crowd.removeAll()
                try await eventually("a new client to be served once descriptors are free") {
                    let answer = try? await RawClient.exchange(port: port, "WHATSAT while.full 10 1\n")
                    return answer?.hasPrefix("AT Alford ") == true
                }
            }
        }
    }
}
