import NIOCore
import NIOEmbedded
import Testing

@testable import HerdKit

/// The pass, end to end on one embedded loop: lines in, journal, floods, acknowledgements, replies out.
@Suite("A server's pass")
struct ServerPassTests {
    private static let iamat = "IAMAT kiwi +34.068930-118.445127 1621464827.959498503\n"

    @Test func eachPassWritesItsRepliesInOneWriteInTheOrderOfTheLines() throws {
        let server = EmbeddedServer()
        let client = try server.connectClient()
        // Three commands split across two reads in one pass: one write, whole replies, in order.
        try client.writeInbound(ByteBuffer(string: "IAMAT a +1+1 1.5\nWHATS"))
        try client.writeInbound(ByteBuffer(string: "AT a 10 1\nbogus\n"))
        server.loop.run()
        let writes = try server.writes(client)
        #expect(writes.count == 1)
        let text = try #require(writes.first)
        #expect(text.hasPrefix("AT Hamilton +1621464826.500000000 a +1+1 1.5\n"))
        #expect(text.contains("\n{\n") && text.hasSuffix("\n\n? bogus\n"), "\(text)")
    }

    @Test func aReplyIsNotWrittenBeforeItsPassIsCommitted() throws {
        let server = EmbeddedServer()
        let client = try server.connectClient()
        try client.writeInbound(ByteBuffer(string: Self.iamat))
        // The lines ran (the store has the update) but the pass has not ended: nothing is written yet.
        #expect(server.store.count == 1)
        #expect(try server.writes(client).isEmpty)
        server.loop.run()
        #expect(try server.writes(client).count == 1)
    }

    @Test func theFloodGoesOutBeforeTheReplyAndTheReplyWaitsForTheAcknowledgement() throws {
        let server = EmbeddedServer()
        server.startLinks()
        let parker = try server.linkUp("Parker")
        let client = try server.connectClient()
        try server.send(Self.iamat, on: client)
        // Parker has the update; the client has nothing until Parker acknowledges it.
        let flood = try server.readText(parker)
        #expect(
            flood.hasPrefix("AT Hamilton ") && flood.hasSuffix(" kiwi +34.068930-118.445127 1621464827.959498503\n"))
        #expect(try server.writes(client).isEmpty)
        try server.send("ACK 1\n", on: parker)
        #expect(try server.readText(client) == flood)
    }

    @Test func anAcknowledgementThatComesInTheSamePassAsTheFloodReleasesTheReply() throws {
        // The old stall: an ACK that overtook the link's own record of its write was lost. Here the ACK is
        // read before the loop runs anything else after the flood.
        let server = EmbeddedServer()
        server.startLinks()
        let parker = try server.linkUp("Parker")
        let client = try server.connectClient()
        for round in 0..<50 {
            try client.writeInbound(ByteBuffer(string: "IAMAT c\(round) +1+1 \(round + 1)\n"))
            server.loop.run()
            #expect(try server.readText(parker).hasPrefix("AT Hamilton "))
            try parker.writeInbound(ByteBuffer(string: "ACK \(round + 1)\n"))
            #expect(try server.readText(client).hasPrefix("AT Hamilton "), "round \(round)")
        }
    }

    @Test func aNeighbourThatMissesTheFloodTimeoutIsNotWaitedForUntilItCatchesUp() throws {
        let server = EmbeddedServer()
        server.startLinks()
        let parker = try server.linkUp("Parker")
        let client = try server.connectClient()
        try server.send("IAMAT slow +1+1 1\n", on: client)
        #expect(try server.writes(client).isEmpty)
        server.loop.advanceTime(by: .milliseconds(999))
        #expect(try server.writes(client).isEmpty)
        server.loop.advanceTime(by: .milliseconds(1))
        #expect(try server.readText(client).hasPrefix("AT Hamilton "))
        // While Parker lags, replies go as soon as their pass is committed.
        try server.send("IAMAT quick +1+1 2\n", on: client)
        #expect(try server.readText(client).hasPrefix("AT Hamilton "))
        // Parker catches up (acknowledges both): replies wait for it again.
        #expect(try server.writes(parker).count == 2)
        try server.send("ACK 2\n", on: parker)
        try server.send("IAMAT again +1+1 3\n", on: client)
        #expect(try server.writes(client).isEmpty)
        try server.send("ACK 3\n", on: parker)
        #expect(try server.readText(client).hasPrefix("AT Hamilton "))
    }

    @Test func aLinkThatDropsReleasesTheRepliesWaitingForIt() throws {
        let server = EmbeddedServer()
        server.startLinks()
        let parker = try server.linkUp("Parker")
        let client = try server.connectClient()
        try server.send(Self.iamat, on: client)
        #expect(try server.writes(client).isEmpty)
        try parker.close().wait()
        server.loop.run()
        #expect(try server.readText(client).hasPrefix("AT Hamilton "))
    }

    @Test func aNeighboursUpdateIsAcknowledgedOnlyAfterItsPassIsCommitted() throws {
        let server = EmbeddedServer(name: "Parker")
        let alford = EmbeddedChannel(loop: server.loop)
        try alford.pipeline.syncOperations.addHandler(
            InboundLinkHandler(server: server.core, peer: ConnectionPeer(remoteDescription: "Alford")))
        try alford.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try alford.writeInbound(ByteBuffer(string: "HELLO Alford\n"))
        #expect(try server.readText(alford) == "EPOCH \(server.store.epoch)\n")
        try alford.writeInbound(
            ByteBuffer(string: "AT Alford +0.000000001 k1 +1+1 1\nAT Alford +0.000000001 k2 +1+1 1\n"))
        #expect(server.store.count == 2)
        #expect(try server.writes(alford).isEmpty)
        server.loop.run()
        #expect(try server.readText(alford) == "ACK 2\n")
    }

    @Test func aHelloFromAServerThatIsNoNeighbourIsRefused() throws {
        let server = EmbeddedServer(name: "Parker")
        let stranger = EmbeddedChannel(loop: server.loop)
        try stranger.pipeline.syncOperations.addHandler(
            InboundLinkHandler(server: server.core, peer: ConnectionPeer(remoteDescription: "stranger")))
        try stranger.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try stranger.writeInbound(ByteBuffer(string: "HELLO Welsh\nAT Welsh +0.000000001 k +1+1 1\n"))
        server.loop.run()
        #expect(!stranger.isActive)
        #expect(server.store.count == 0)
    }

    @Test func aLineWhoseReplyComesLaterHoldsBackTheLinesAfterIt() throws {
        let gate = EmbeddedEventLoopPromises()
        let server = EmbeddedServer(stages: [ParseStage(), LaterForSlowClients(gate: gate), RespondStage()])
        let client = try server.connectClient()
        try server.send("IAMAT slow.a +1+1 1\nIAMAT b +1+1 1\n", on: client)
        // slow.a's reply comes later; b waits behind it even though its own reply would be ready.
        #expect(try server.writes(client).isEmpty)
        try #require(gate.promises.count == 1)
        gate.promises[0].succeed(.line(Array("first".utf8)))
        server.loop.run()
        #expect(try server.readText(client) == "first\nAT Hamilton +1621464827.000000000 b +1+1 1\n")
    }

    @Test func aLineLongerThanTheLimitIsAnsweredWithItsStartAndTheConnectionCloses() throws {
        let server = EmbeddedServer(settings: { $0.maximumLineBytes = 300 })
        let client = try server.connectClient()
        let long = "IAMAT " + String(repeating: "x", count: 400)
        try server.send("IAMAT ok +1+1 1\n" + long + "\nIAMAT after +1+1 1\n", on: client)
        let text = try server.readText(client)
        #expect(text.hasPrefix("AT Hamilton "))
        #expect(text.hasSuffix("\n? " + long.prefix(256) + "\n"))
        #expect(!client.isActive)
    }

    @Test func aLastLineWithoutItsLineFeedIsAnsweredAtEndOfInput() throws {
        let server = EmbeddedServer()
        let client = try server.connectClient()
        try client.writeInbound(ByteBuffer(string: "IAMAT a +1+1 1\nIAMAT b +1+1 2"))
        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        server.loop.run()
        let text = try server.readText(client)
        #expect(text.components(separatedBy: "\n").filter { $0.hasPrefix("AT Hamilton ") }.count == 2)
        #expect(!client.isActive)
    }
}

/// Promises a test completes by hand.
final class EmbeddedEventLoopPromises: @unchecked Sendable {
    // @unchecked: used only on the embedded loop's thread, which is the test's.
    var promises: [EventLoopPromise<Reply?>] = []
}

/// Answers IAMATs from clients whose id starts with `slow.` later, through a promise the test completes.
struct LaterForSlowClients: MessageHandler {
    let gate: EmbeddedEventLoopPromises

    func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        guard case .iamat(let report)? = envelope.message, report.clientID.description.hasPrefix("slow.") else {
            return next(envelope)
        }
        let promise = context.eventLoop.makePromise(of: Reply?.self)
        gate.promises.append(promise)
        return .later(promise.futureResult)
    }
}
