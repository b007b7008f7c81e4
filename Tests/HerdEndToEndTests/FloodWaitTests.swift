import Foundation
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 11: replies waited about a second (the flood timeout) for a neighbour's acknowledgement that had
    /// already come.
    ///
    /// The cause: a link recorded a batch as in flight only after its asynchronous write returned. A batch
    /// larger than the channel's write buffer (64 KiB; a link sends up to 4,096 updates at once) made the
    /// write wait for the channel to drain, and while it waited the bytes went out, the neighbour stored them
    /// and its `ACK` came back. That `ACK` matched no batch and was dropped, so the replies waiting for the
    /// batch were released only by the next batch's `ACK` or, when every client was waiting for its replies
    /// and so no next batch came, by the flood timeout. The link now records a batch before it writes it, on
    /// the event loop that also reads the `ACK`, so an acknowledgement can never come before its batch.
    @Suite("Flood acknowledgements")
    struct FloodWaitTests {
        /// Hamilton with Parker played by a stand-in that acknowledges every read at once, and a client that
        /// sends its reports in bursts large enough that a flood is bigger than the write buffer. With a flood
        /// timeout of ten minutes, one burst released by the timeout instead of its acknowledgement stops the
        /// test (the client gives up after 10 s without a reply). Before the fix it failed in the first rounds.
        @Test func everyReplyIsReleasedByItsAcknowledgementNotByTheFloodTimeout() async throws {
            let parker = try StandInPeer(behaviour: .acknowledgeAtOnce)
            defer { parker.stop() }
            try await withProcessHerd(
                names: ["Hamilton", "Parker"], links: [("Hamilton", "Parker")],
                extra: "limits: {flood_timeout_ms: 600000}\npeer_links: {redial_initial_ms: 20, redial_max_ms: 100}",
                peerPorts: ["Parker": parker.port]
            ) { herd in
                parker.authenticate(.init(name: "Parker") { try herd.machineSecret() })
                try await herd.start("Hamilton")
                try await eventually("Hamilton's link to the stand-in") {
                    parker.hellos.count == 1 && parker.hellos[0].hasPrefix("HELLO Hamilton ")
                }
                let port = herd.clientPorts["Hamilton"]!
                let rounds = 40
                let burst = 5_000
                let answered = try await RawConnection.onThread {
                    let connection = try RawConnection(port: port)
                    for round in 0..<rounds {
                        let lines = (0..<burst).map { Wire.iamat("race.\(round).\($0)", time: "1621464900") + "\n" }
                        try connection.write(lines.joined())
                        for _ in 0..<burst {
                            guard let reply = try connection.readLine(), reply.hasPrefix("AT Hamilton ") else {
                                return round
                            }
                        }
                    }
                    return rounds
                }
                #expect(answered == rounds)
                #expect(parker.lines.count == rounds * burst, "every update went to the stand-in before its reply")
            }
        }
    }
}
