import Foundation
import HerdKit
import HerdTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension HerdEndToEndTests {
    /// Issue 12, items 7 and 8: clients that never read cannot grow a server's memory with replies, and a full
    /// disk holds updates back (never served or flooded unjournalled) until the journal can be written again.
    @Suite("Resource exhaustion", .serialized)
    struct ResourceExhaustionTests {
        @Test func clientsThatSendPlaceQueriesAndNeverReadHoldBoundedMemory() async throws {
            try await withProcessHerd(names: ["Alford"], links: []) { herd in
                let process = try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                #expect(try await RawClient.exchange(port: port, Wire.iamat("c") + "\n").hasPrefix("AT Alford "))
                let before = try ProcessStats.residentBytes(of: process)
                // Each 18-byte line asks for about 23 KB of JSON: 2,000 of them are 46 MB of replies per
                // connection, 370 MB for the eight if all were built before any was sent.
                let query = Array(String(repeating: "WHATSAT c 50 20\n", count: 2_000).utf8)
                let greedy = try (0..<8).map { _ in try RawConnection(port: port) }
                try await RawConnection.onThread {
                    for connection in greedy { _ = try connection.writeWithoutBlocking(query) }
                }
                // Give the server time to do all it will do with what it was sent.
                var peak = 0
                for _ in 0..<30 {
                    try await Task.sleep(for: .milliseconds(100))
                    peak = max(peak, try ProcessStats.residentBytes(of: process))
                }
                let grown = peak - before
                // Per connection: 1 MiB of unsent replies, the reply being built, the socket's buffer.
                #expect(grown < 8 * 12 << 20, "the server grew by \(grown >> 20) MiB for eight clients that never read")
                // The lines held back are answered once the client reads.
                let replies = try await RawConnection.onThread { () throws -> Int in
                    var count = 0
                    while count < 50, let line = try greedy[0].readLine() {
                        if line.hasPrefix("AT Alford ") { count += 1 }
                    }
                    return count
                }
                #expect(replies == 50)
            }
        }

        @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs; needs root"))
        func aFullDiskHoldsUpdatesBackAndTheServerResumesOnItsOwnWhenSpaceReturns() async throws {
            let disk = FileManager.default.temporaryDirectory.appendingPathComponent("herd-full-disk-\(UUID())").path
            try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: disk) }
            guard Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk) else {
                Issue.record("cannot mount a tmpfs at \(disk)")
                return
            }
            defer { _ = Self.run("/bin/umount", "-l", disk) }
            let parker = try StandInPeer(behaviour: .acknowledgeAtOnce)
            defer { parker.stop() }
            try await withProcessHerd(
                names: ["Alford", "Parker"], links: [("Alford", "Parker")], extra: "data_dir: \(disk)",
                peerPorts: ["Parker": parker.port]
            ) { herd in
                let secretPath = PeerAuthentication.machineSecretPath(dataDirectory: disk)
                parker.authenticate(
                    .init(name: "Parker") {
                        guard let secret = PeerSecret(text: try String(contentsOfFile: secretPath, encoding: .utf8))
                        else { throw HarnessError("no secret in \(secretPath)") }
                        return secret
                    })
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                #expect(try await RawClient.exchange(port: port, Wire.iamat("before.full") + "\n").hasPrefix("AT "))
                try await eventually("the flood of before.full") {
                    parker.lines.contains { $0.contains("before.full") }
                }

                // Fill the disk to the last byte.
                let filler = disk + "/filler"
                let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
                let chunk = [UInt8](repeating: 0, count: 4096)
                while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, 4096) }) > 0 {}
                _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, 1) }
                close(fd)

                // One pass of twenty reports: its journal write needs pages the disk no longer has.
                let held = try RawConnection(port: port)
                let clients = (0..<20).map { "during.full.\($0)." + String(repeating: "x", count: 200) }
                try await RawConnection.onThread {
                    try held.write(clients.map { Wire.iamat($0) + "\n" }.joined())
                }
                _ = try await HostileClientTests.waitForLog(herd, "Alford", containing: "cannot write the journal")
                // Not told to the client, nor flooded.
                var byte: UInt8 = 0
                #expect(recv(held.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) < 0, "a reply before the journal")
                #expect(!parker.lines.contains { $0.contains("during.full") }, "an update not journalled was flooded")

                try FileManager.default.removeItem(atPath: filler)
                let replies = try await RawConnection.onThread { try clients.map { _ in try held.readLine() ?? "" } }
                for (client, reply) in zip(clients, replies) {
                    #expect(reply.hasPrefix("AT Alford ") && reply.contains(" \(client) "), "\(reply)")
                }
                try await eventually("the held updates to be flooded") {
                    clients.allSatisfy { client in parker.lines.contains { $0.contains(client) } }
                }
                let log = try await HostileClientTests.waitForLog(herd, "Alford", containing: "can be written again")
                #expect(log.contains("serving again"))
            }
        }

        private static func run(_ executable: String, _ arguments: String...) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
    }
}
