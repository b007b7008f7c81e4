import NIOCore
import Testing

@testable import HerdKit

@Suite("Line framing: LF, CRLF and end of input; a limit on a line's length")
struct LineFramerTests {
    private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// Frames everything the framer holds now, as text (an overlong prefix is marked).
    private func drain(_ framer: inout LineFramer) -> [String] {
        var out: [String] = []
        while let framed = framer.next() { out.append(describe(framed)) }
        return out
    }

    private func describe(_ framed: LineFramer.Framed) -> String {
        switch framed {
        case .line(let line): String(buffer: line)
        case .overlong(let prefix): "overlong:" + String(buffer: prefix)
        }
    }

    @Test func oneReadWithSeveralLinesGivesEachLineWithoutItsLineFeed() {
        var framer = LineFramer(maximumLineBytes: 100)
        framer.append(buffer("IAMAT a +1+1 1\r\nWHATSAT a 1 1\n\npartial"))
        #expect(drain(&framer) == ["IAMAT a +1+1 1\r", "WHATSAT a 1 1", ""])
        #expect(framer.bufferedBytes == "partial".utf8.count)
    }

    @Test func aLineSplitAcrossReadsIsJoined() {
        var framer = LineFramer(maximumLineBytes: 100)
        framer.append(buffer("IAM"))
        #expect(drain(&framer).isEmpty)
        framer.append(buffer("AT a +1+1 1"))
        #expect(drain(&framer).isEmpty)
        framer.append(buffer("\nnext"))
        #expect(drain(&framer) == ["IAMAT a +1+1 1"])
    }

    @Test func endOfInputCompletesTheLastLine() {
        var framer = LineFramer(maximumLineBytes: 100)
        framer.append(buffer("one\ntwo"))
        #expect(drain(&framer) == ["one"])
        #expect(framer.finish().map(describe) == "two")
        #expect(framer.finish() == nil)
    }

    @Test func endOfInputAfterATerminatedLineAddsNothing() {
        var framer = LineFramer(maximumLineBytes: 100)
        framer.append(buffer("one\n"))
        #expect(drain(&framer) == ["one"])
        #expect(framer.finish() == nil)
    }

    @Test func aPartialLinePastTheLimitIsOverlongWithItsFirstBytesAndNothingAfterIsFramed() {
        var framer = LineFramer(maximumLineBytes: 8, echoBytes: 4)
        framer.append(buffer("abcdefghij"))
        #expect(drain(&framer) == ["overlong:abcd"])
        #expect(framer.overflowed)
        framer.append(buffer("\nIAMAT a +1+1 1\n"))
        #expect(drain(&framer).isEmpty)
        #expect(framer.finish() == nil)
    }

    @Test func aCompleteLinePastTheLimitIsOverlongEvenWhenItsLineFeedArrivedWithIt() {
        var framer = LineFramer(maximumLineBytes: 8, echoBytes: 4)
        framer.append(buffer("ok\nabcdefghij\nafter\n"))
        #expect(drain(&framer) == ["ok", "overlong:abcd"])
    }

    @Test func aLineOfExactlyTheLimitIsALine() {
        var framer = LineFramer(maximumLineBytes: 8)
        framer.append(buffer("12345678\n12345678"))
        #expect(drain(&framer) == ["12345678"])
        #expect(framer.finish().map(describe) == "12345678")
    }

    @Test func compactingKeepsThePartialLineAndWhatFollowsIt() {
        var framer = LineFramer(maximumLineBytes: 100_000)
        var big = ByteBufferAllocator().buffer(capacity: 65_536)
        big.writeString(String(repeating: "x\n", count: 1000) + "tail")
        framer.append(big)
        #expect(drain(&framer).count == 1000)
        framer.compact()
        #expect(framer.bufferedBytes == 4)
        framer.append(buffer(" end\n"))
        #expect(drain(&framer) == ["tail end"])
    }
}
