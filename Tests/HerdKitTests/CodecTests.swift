import NIOCore
import Testing

@testable import HerdKit

private func parse(_ line: String) throws(ProtocolError) -> Message? {
    try MessageParser.parse(Array(line.utf8))
}

private let kiwiReport = IAmAt(
    clientID: ClientID("kiwi.cs.ucla.edu"),
    time: ClientTime(isNegative: false, seconds: 1_621_464_827, nanoseconds: 959_498_503),
    locationText: ArraySlice("+34.068930-118.445127".utf8),
    timeText: ArraySlice("1621464827.959498503".utf8))

@Suite("Message parser")
struct MessageParserTests {
    @Test func validIAMAT() throws {
        let message = try parse("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503")
        #expect(message == .iamat(kiwiReport))
        guard case .iamat(let report)? = message else { return }
        #expect(report.coordinates == Coordinates(latitude: 34.068930, longitude: -118.445127))
    }

    @Test func aByteBufferParsesAsTheSameBytesDo() throws {
        for line in [
            "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503", "WHATSAT kiwi 10 5",
            "AT Alford +0.263873386 kiwi +1-1 1", " ",
        ] {
            var buffer = ByteBuffer(string: "junk before|" + line)
            buffer.moveReaderIndex(forwardBy: 12)
            let expected = try parse(line)
            #expect(try MessageParser.parse(buffer) == expected, "\(line)")
        }
        #expect(throws: ProtocolError.self) { try MessageParser.parse(ByteBuffer(string: "IAMAT kiwi")) }
    }

    @Test(
        "Any run of ASCII white space separates fields; leading and trailing white space is ignored",
        arguments: [
            "IAMAT\tkiwi.cs.ucla.edu\t+34.068930-118.445127\t1621464827.959498503",
            "IAMAT \t kiwi.cs.ucla.edu\u{0B}+34.068930-118.445127\u{0C}1621464827.959498503",
            "IAMAT\rkiwi.cs.ucla.edu \r +34.068930-118.445127  1621464827.959498503",
            "  \tIAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503\r",
            "\u{0C}\u{0B} IAMAT   kiwi.cs.ucla.edu  +34.068930-118.445127   1621464827.959498503 \t\r",
            "IAMAT kiwi.cs.ucla.edu\n+34.068930-118.445127 1621464827.959498503",
        ])
    func whiteSpaceBetweenFields(line: String) throws {
        #expect(try parse(line) == .iamat(kiwiReport))
    }

    @Test("A blank line is ignored", arguments: ["", " ", "\t", "\r", " \t\u{0B}\u{0C}\r\n "])
    func blankLine(line: String) throws {
        #expect(try parse(line) == nil)
    }

    @Test func validWHATSAT() throws {
        let message = try parse("WHATSAT kiwi.cs.ucla.edu 10 5")
        #expect(message == .whatsat(WhatsAt(clientID: ClientID("kiwi.cs.ucla.edu"), radiusKilometres: 10, bound: 5)))
    }

    @Test func whatsatRadiusInMetres() {
        #expect(WhatsAt(clientID: ClientID("a"), radiusKilometres: 10, bound: 5).radiusMetres == 10_000)
        #expect(WhatsAt(clientID: ClientID("a"), radiusKilometres: 0.5, bound: 5).radiusMetres == 500)
    }

    @Test func validAT() throws {
        let text = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        let message = try parse(text)
        guard case .at(let line)? = message else {
            Issue.record("expected an AT message, got \(String(describing: message))")
            return
        }
        #expect(line.bytes == Array(text.utf8))
        #expect(line.server == "Alford")
        #expect(line.serverBytes.elementsEqual("Alford".utf8))
        #expect(line.clientID == ClientID("kiwi.cs.ucla.edu"))
        #expect(line.coordinates == Coordinates(latitude: 34.068930, longitude: -118.445127))
        #expect(line.time == ClientTime(isNegative: false, seconds: 1_621_464_827, nanoseconds: 959_498_503))
        #expect(message == .at(parsedATLine(text)))
    }

    @Test func atLineWithOtherWhiteSpaceIsKeptWithSingleSpaces() throws {
        let message = try parse("AT\tBolden  -1.500000000 kiwi +12-118 1621464827\r")
        guard case .at(let line)? = message else {
            Issue.record("expected an AT message, got \(String(describing: message))")
            return
        }
        #expect(String(decoding: line.bytes, as: UTF8.self) == "AT Bolden -1.500000000 kiwi +12-118 1621464827")
        #expect(line.server == "Bolden")
        #expect(line.clientID == ClientID("kiwi"))
        #expect(line.coordinates == Coordinates(latitude: 12, longitude: -118))
        #expect(line.time == ClientTime(isNegative: false, seconds: 1_621_464_827, nanoseconds: 0))
    }

    @Test func theLineAServerBuildsFromAnIAMATParsesBackToItsFields() throws {
        let update = kiwiReport.atLine(server: "Alford", receivedAt: WallTime(seconds: 1_621_464_828, nanoseconds: 0))
        #expect(update.server == "Alford")
        #expect(update.clientID == kiwiReport.clientID)
        #expect(update.coordinates == kiwiReport.coordinates)
        #expect(update.time == kiwiReport.time)
        #expect(try parse(String(decoding: update.bytes, as: UTF8.self)) == .at(update))
    }

    @Test(
        "Wrong field counts are invalid",
        arguments: [
            "IAMAT",
            "IAMAT kiwi.cs.ucla.edu",
            "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127",
            "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503 extra",
            "WHATSAT",
            "WHATSAT kiwi.cs.ucla.edu 10",
            "WHATSAT kiwi.cs.ucla.edu 10 5 6",
            "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127",
            "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503 x",
        ])
    func wrongFieldCount(line: String) {
        #expect(throws: ProtocolError.self) { try parse(line) }
    }

    @Test(
        "Unknown commands are invalid; commands are case-sensitive",
        arguments: [
            "HELLO kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "iamat kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "Iamat kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "whatsat kiwi.cs.ucla.edu 10 5",
            "at Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "IAMATX kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "?",
        ])
    func unknownCommand(line: String) {
        #expect(throws: ProtocolError.self) { try parse(line) }
    }

    @Test(
        "IAMAT keeps the location and time bytes exactly as sent",
        arguments: [
            ("+27.5916+086.5640", "+5.50"),
            ("+12-118", "-5"),
            ("-90+180", "0"),
            ("+90.000-180.0", "1621464827.9594985031"),
        ])
    func iamatKeepsTextFields(location: String, time: String) throws {
        let message = try parse("IAMAT c \(location) \(time)")
        guard case .iamat(let report)? = message else {
            Issue.record("expected IAMAT, got \(String(describing: message))")
            return
        }
        #expect(String(decoding: report.locationText, as: UTF8.self) == location)
        #expect(String(decoding: report.timeText, as: UTF8.self) == time)
        #expect(report.clientID == ClientID("c"))
    }

    @Test(
        "Bad IAMAT locations and times are invalid",
        arguments: [
            "IAMAT kiwi 34.06-118.44 1621464827",
            "IAMAT kiwi +91-118 1621464827",
            "IAMAT kiwi +34.068930-118.445127 1e9",
            "IAMAT kiwi +34.068930-118.445127 nan",
            "IAMAT kiwi +34.068930-118.445127 1.",
        ])
    func badIAMATFields(line: String) {
        #expect(throws: ProtocolError.self) { try parse(line) }
    }

    @Test(
        "Bad AT fields are invalid",
        arguments: [
            "AT Alford 0.263873386 kiwi +34-118 1621464827",
            "AT Alford +abc kiwi +34-118 1621464827",
            "AT Alford +1e3 kiwi +34-118 1621464827",
            "AT Alford +0.100000000 kiwi 34-118 1621464827",
            "AT Alford +0.100000000 kiwi +34-118 1621464827x",
            "AT Alford +0.100000000 kiwi +91-118 1621464827",
        ])
    func badATFields(line: String) {
        #expect(throws: ProtocolError.self) { try parse(line) }
    }

    @Test(
        "AT skews: a sign, digits, a dot and exactly nine digits",
        arguments: [
            ("+0.263873386", true), ("-0.000000000", true), ("+0000.000000001", true),
            ("+123456789012345678901234.000000000", true), ("+0.1", false), ("-1.5", false),
            ("+0.26387338", false), ("+0.2638733860", false), ("0.263873386", false), ("+.263873386", false),
            ("+1.", false), ("+1", false), ("+", false), ("++1.000000000", false), ("+-1.000000000", false),
            ("+1e3", false), ("+1.00000000e", false), ("+1,000000000", false), ("+1.000000000.", false),
            ("+\u{661}.000000000", false),
        ])
    func atSkews(skew: String, valid: Bool) throws {
        let line = "AT Alford \(skew) kiwi +34-118 1621464827"
        if valid {
            guard case .at(let update)? = try parse(line) else {
                Issue.record("\(line) does not parse as AT")
                return
            }
            #expect(update.bytes == Array(line.utf8))
        } else {
            #expect(throws: ProtocolError.self) { try parse(line) }
        }
        #expect(MessageParser.isSkew(Array(skew.utf8)) == valid)
    }

    @Test(
        "Radius: a decimal number of kilometres, 0 < r <= 50",
        arguments: [
            ("50", 50.0), ("50.0", 50.0), ("10", 10.0), ("0.5", 0.5), ("0.001", 0.001), ("050", 50.0),
            ("49.999", 49.999), ("1", 1.0),
        ])
    func validRadius(text: String, kilometres: Double) throws {
        let message = try parse("WHATSAT kiwi \(text) 5")
        #expect(message == .whatsat(WhatsAt(clientID: ClientID("kiwi"), radiusKilometres: kilometres, bound: 5)))
    }

    @Test(
        "Radius out of range or not a plain decimal is invalid",
        arguments: [
            "0", "0.0", "000", "-1", "-0.5", "50.0001", "50.0000000001", "51", "100", "1000000", "1e1", "nan", "inf",
            "1.", ".5", "1,5", "0x10", "ten",
        ])
    func invalidRadius(text: String) {
        #expect(throws: ProtocolError.self) { try parse("WHATSAT kiwi \(text) 5") }
    }

    @Test(
        "Bound: an integer 1...20, leading zeros allowed",
        arguments: [("1", 1), ("20", 20), ("05", 5), ("7", 7), ("0020", 20)])
    func validBound(text: String, bound: Int) throws {
        let message = try parse("WHATSAT kiwi 10 \(text)")
        #expect(message == .whatsat(WhatsAt(clientID: ClientID("kiwi"), radiusKilometres: 10, bound: bound)))
    }

    @Test(
        "Bound out of range or not an integer is invalid",
        arguments: ["0", "00", "21", "100", "-1", "1.5", "1.0", "1e1", "x", "99999999999999999999999"])
    func invalidBound(text: String) {
        #expect(throws: ProtocolError.self) { try parse("WHATSAT kiwi 10 \(text)") }
    }
}

@Suite("Replies")
struct RepliesTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test(
        "? + the stripped line + LF, inner white space kept",
        arguments: [
            ("FOO bar", "? FOO bar\n"),
            ("  FOO\tbar  baz \r", "? FOO\tbar  baz\n"),
            ("\u{0B}\u{0C}iamat  kiwi +34-118 1\r", "? iamat  kiwi +34-118 1\n"),
            ("WHATSAT kiwi 51 5", "? WHATSAT kiwi 51 5\n"),
            ("x", "? x\n"),
            ("   ", "? \n"),
        ])
    func invalidReply(line: String, expected: String) {
        #expect(text(Replies.invalid(Array(line.utf8))) == expected)
        #expect(text(Reply.invalid(Array(line.utf8)).bytes) == expected)
    }

    @Test func atReplyEndsWithOneLineFeed() throws {
        let text = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        guard case .at(let line)? = try MessageParser.parse(Array(text.utf8)) else {
            Issue.record("AT line does not parse")
            return
        }
        #expect(self.text(Replies.at(line)) == text + "\n")
        #expect(self.text(Replies.places(line, json: Array("{}".utf8))) == text + "\n{}\n\n")
    }
}
