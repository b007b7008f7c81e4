import Testing

@testable import HerdKit

/// The two halves of a peer link as state machines, with no socket (Docs/anti-entropy.md).
@Suite("Peer link state machines")
struct PeerLinkStateMachineTests {
    /// A link without a peer secret that has said hello.
    private func dialling() -> OutboundLink {
        var link = OutboundLink(neighbour: "Parker", serverName: "Alford", keys: nil)
        #expect(link.hello() == .hello(server: "Alford"))
        return link
    }

    private func streaming(from start: UInt64 = 0) -> OutboundLink {
        var link = dialling()
        #expect(link.receive(.epoch(9)) == .resume(neighbourEpoch: 9))
        link.start(at: start)
        return link
    }

    @Test func theDiallerStreamsOnceTheListenerNamesItsStore() {
        var link = dialling()
        #expect(!link.isStreaming)
        #expect(!link.isAwaited(at: 1))
        #expect(link.receive(.epoch(9)) == .resume(neighbourEpoch: 9))
        link.start(at: 4)
        #expect(link.neighbourEpoch == 9)
        #expect(link.acknowledged == 4 && link.sent == 4)
        #expect(link.isAwaited(at: 5))
        #expect(!link.isAwaited(at: 4))
    }

    @Test func anythingButAnEpochFirstIsAProtocolError() {
        var link = dialling()
        guard case .fail = link.receive(.acknowledged(lines: 1)) else {
            Issue.record("an ACK before EPOCH was accepted")
            return
        }
        var other = dialling()
        guard case .fail = other.receive(nil) else {
            Issue.record("a line that is no control line was accepted")
            return
        }
    }

    @Test func anAcknowledgementCoversTheBatchesWrittenUpToIt() {
        var link = streaming()
        #expect(link.willWrite(lines: 2, through: 5) == nil)
        #expect(link.willWrite(lines: 3, through: 9) == nil)
        #expect(link.receive(.acknowledged(lines: 2)) == .acknowledged(through: 5))
        #expect(link.isAwaited(at: 9))
        #expect(!link.isAwaited(at: 5))
        // A repeated or partial acknowledgement changes nothing.
        #expect(link.receive(.acknowledged(lines: 4)) == .none)
        #expect(link.receive(.acknowledged(lines: 5)) == .acknowledged(through: 9))
        #expect(!link.isAwaited(at: 9))
    }

    /// The stall of issue 11 cannot happen: a batch is recorded before it is written, so an acknowledgement
    /// read right after the write always finds it.
    @Test func anAcknowledgementRightAfterTheWriteFindsItsBatch() {
        var link = streaming()
        for round in UInt64(1)...100 {
            #expect(link.willWrite(lines: 1, through: round) == nil)
            #expect(link.receive(.acknowledged(lines: round)) == .acknowledged(through: round))
            #expect(!link.isAwaited(at: round))
        }
    }

    @Test func aBatchWithoutLinesIsAcknowledgedAtOnceOrWithTheBatchesBeforeIt() {
        var alone = streaming()
        // Every change in it came from the neighbour: nothing to send, nothing to wait for.
        #expect(alone.willWrite(lines: 0, through: 4) == 4)
        #expect(!alone.isAwaited(at: 4))
        var behind = streaming()
        #expect(behind.willWrite(lines: 2, through: 3) == nil)
        #expect(behind.willWrite(lines: 0, through: 6) == nil)
        #expect(behind.receive(.acknowledged(lines: 2)) == .acknowledged(through: 6))
    }

    @Test func acknowledgingMoreLinesThanWereSentIsAProtocolError() {
        var link = streaming()
        _ = link.willWrite(lines: 1, through: 1)
        guard case .fail = link.receive(.acknowledged(lines: 2)) else {
            Issue.record("an acknowledgement of unsent lines was accepted")
            return
        }
    }

    @Test func aLaggingNeighbourIsNotWaitedForUntilItHasCaughtUp() {
        var link = streaming()
        _ = link.willWrite(lines: 1, through: 1)
        let marked = link.markLagging()
        let markedAgain = link.markLagging()
        #expect(marked && !markedAgain)
        #expect(!link.isAwaited(at: 1))
        _ = link.willWrite(lines: 1, through: 2)
        #expect(link.receive(.acknowledged(lines: 1)) == .acknowledged(through: 1))
        #expect(!link.isAwaited(at: 3), "still behind what was sent: still lagging")
        #expect(link.receive(.acknowledged(lines: 2)) == .acknowledged(through: 2))
        #expect(link.isAwaited(at: 3))
    }

    @Test func aClosedLinkIsAwaitedByNobody() {
        var link = streaming()
        _ = link.willWrite(lines: 1, through: 1)
        link.close()
        #expect(!link.isAwaited(at: 1))
        #expect(link.receive(.acknowledged(lines: 1)) == .none)
    }

    @Test func theListenerAcceptsOneHelloAndAcknowledgesWhatItProcessed() {
        var link = InboundLink(serverName: "Parker", keys: nil)
        #expect(
            link.receive(.hello(server: "Alford"), epoch: 5) { _ in nil }
                == .accept(neighbour: "Alford", reply: .epoch(5)))
        #expect(link.neighbour == "Alford")
        #expect(link.acknowledgementDue() == nil)
        link.processedLine()
        link.processedLine()
        #expect(link.acknowledgementDue() == 2)
        #expect(link.acknowledgementDue() == nil)
        link.processedLine()
        #expect(link.acknowledgementDue() == 3)
        #expect(link.receive(.hello(server: "Alford"), epoch: 5) { _ in nil } == .refuse("a second hello"))
    }

    @Test func theListenerRefusesWhatItsCheckRefusesAndAnythingButAHello() {
        var refused = InboundLink(serverName: "Parker", keys: nil)
        #expect(
            refused.receive(.hello(server: "Mallory"), epoch: 5) { _ in "not a neighbour" }
                == .refuse("not a neighbour"))
        #expect(refused.neighbour == nil)
        var silent = InboundLink(serverName: "Parker", keys: nil)
        #expect(silent.receive(.epoch(3), epoch: 5) { _ in nil } == .refuse("no hello line"))
    }

    @Test func controlLinesRoundTrip() {
        for message in [
            PeerMessage.hello(server: "Alford"), .epoch(18_446_744_073_709_551_615), .acknowledged(lines: 0),
            .hello(server: "Alford", nonce: "n1"), .challenge(nonce: "n2"), .proof(["p1"]), .proof(["p1", "p2"]),
            .epoch(3, proof: "p3"),
        ] {
            let text = String(decoding: message.line.dropLast(), as: UTF8.self)
            #expect(PeerMessage.parse(text) == message)
        }
        #expect(PeerMessage.parse("ACK -1") == nil)
        #expect(PeerMessage.parse("ACK 1 2") == nil)
        #expect(PeerMessage.parse("HELLO") == nil)
        #expect(PeerMessage.parse("HELLO Alford n1 extra") == nil)
        #expect(PeerMessage.parse("CHALLENGE n1 n2") == nil)
    }
}
