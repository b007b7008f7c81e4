import HerdKit
import NIOCore
import NIOEmbedded
import Testing

@testable import Transports

@Suite("Line framing")
struct LineFramingHandlerTests {
    private func channel(maximumLineBytes: Int = 64) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            LineFramingHandler(maximumLineBytes: maximumLineBytes, echoBytes: 8))
        return channel
    }

    private func write(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    private func events(from channel: EmbeddedChannel) throws -> [InboundEvent] {
        var events: [InboundEvent] = []
        while let event = try channel.readInbound(as: InboundEvent.self) { events.append(event) }
        return events
    }

    private func lines(_ texts: String...) -> InboundEvent {
        .lines(texts.map { Array($0.utf8) })
    }

    @Test func oneReadWithSeveralLinesIsOneBatch() throws {
        let channel = try channel()
        try write("IAMAT a +1+2 3\nWHATSAT a 1 1\r\nthird\n", to: channel)
        #expect(try events(from: channel) == [lines("IAMAT a +1+2 3", "WHATSAT a 1 1\r", "third")])
    }

    @Test func aLineSplitAcrossReadsIsJoined() throws {
        let channel = try channel()
        try write("IAMAT kiwi", to: channel)
        #expect(try events(from: channel).isEmpty)
        try write(" +1+2", to: channel)
        try write(" 3\nnext", to: channel)
        #expect(try events(from: channel) == [lines("IAMAT kiwi +1+2 3")])
    }

    @Test func endOfInputCompletesTheLastLine() throws {
        let channel = try channel()
        try write("first\nlast without newline", to: channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try events(from: channel) == [lines("first"), lines("last without newline")])
    }

    @Test func endOfInputAfterATerminatedLineAddsNothing() throws {
        let channel = try channel()
        try write("only\n", to: channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try events(from: channel) == [lines("only")])
    }

    @Test func anOverlongPartialLineEndsInputWithItsPrefix() throws {
        let channel = try channel(maximumLineBytes: 16)
        try write("ok\n0123456789abcdefXYZ", to: channel)
        try write("more\nIAMAT ignored\n", to: channel)
        #expect(try events(from: channel) == [lines("ok"), .overlongLine(prefix: Array("01234567".utf8))])
    }

    @Test func anOverlongCompleteLineEndsInputWithItsPrefix() throws {
        let channel = try channel(maximumLineBytes: 16)
        try write("first\nABCDEFGHIJKLMNOPQRSTUVWXYZ\nafter\n", to: channel)
        #expect(try events(from: channel) == [lines("first"), .overlongLine(prefix: Array("ABCDEFGH".utf8))])
    }

    @Test func aLineOfExactlyTheLimitIsAccepted() throws {
        let channel = try channel(maximumLineBytes: 16)
        try write("0123456789abcdef\n", to: channel)
        #expect(try events(from: channel) == [lines("0123456789abcdef")])
    }
}
