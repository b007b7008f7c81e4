import Testing

@testable import HerdKit

private func report(client: String = "kiwi.cs.ucla.edu", location: String = "+34.068930-118.445127", time: String)
    throws -> IAmAt
{
    let message = try MessageParser.parse(Array("IAMAT \(client) \(location) \(time)".utf8))
    guard case .iamat(let report)? = message else {
        Issue.record("not an IAMAT: \(String(describing: message))")
        throw ProtocolError("not an IAMAT")
    }
    return report
}

@Suite("Skew and the AT line")
struct SkewTests {
    /// PROTOCOL.md's example reply; its skew +0.263873386 means the server received the IAMAT at
    /// 1621464828.223371889 (1621464827.959498503 + 0.263873386).
    @Test func theProtocolExample() throws {
        let line = try report(time: "1621464827.959498503")
            .atLine(server: "Alford", receivedAt: WallTime(seconds: 1_621_464_828, nanoseconds: 223_371_889))
        #expect(
            String(decoding: line.bytes, as: UTF8.self)
                == "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503")
        #expect(line.server == "Alford")
        #expect(line.clientID == ClientID("kiwi.cs.ucla.edu"))
        #expect(line.coordinates == Coordinates(latitude: 34.068930, longitude: -118.445127))
        #expect(line.time == ClientTime(isNegative: false, seconds: 1_621_464_827, nanoseconds: 959_498_503))
    }

    @Test(
        "Skew: explicit sign, nine fractional digits, no exponent",
        arguments: [
            // Client behind the server.
            (1_621_464_828 as Int64, 223_371_889 as Int32, "1621464827.959498503", "+0.263873386"),
            (1_621_464_828, 223_372_889, "1621464827.959498503", "+0.263874386"),
            // Client ahead of the server: negative skew.
            (1_621_464_827, 0, "1621464827.5", "-0.500000000"),
            (0, 0, "0.000000001", "-0.000000001"),
            (1_621_464_827, 0, "1621464837", "-10.000000000"),
            // Zero.
            (1_621_464_827, 959_498_503, "1621464827.959498503", "+0.000000000"),
            (0, 0, "-0", "+0.000000000"),
            (1, 1, "1", "+0.000000001"),
            // Large skews are printed in full.
            (1_000_000_000_000, 5, "0", "+1000000000000.000000005"),
            (1_621_464_828, 223_371_889, "999999999999999999.999999999", "-999999998378535171.776628110"),
            (1_621_464_828, 0, "-1621464828", "+3242929656.000000000"),
            // Negative client times.
            (10, 0, "-5.25", "+15.250000000"),
            // More than nine fractional digits: the exact skew is cut toward zero.
            (1_621_464_828, 223_371_889, "1621464827.9594985031", "+0.263873385"),
            (1_621_464_828, 223_371_889, "1621464827.95949850300000", "+0.263873386"),
            (1_621_464_827, 0, "1621464827.5000000001", "-0.500000000"),
            (0, 0, "-1.0000000001", "+1.000000000"),
            (0, 0, "0.0000000001", "+0.000000000"),
        ])
    func skew(seconds: Int64, nanoseconds: Int32, clientTime: String, expectedSkew: String) throws {
        let line = try report(client: "c", location: "+1-2", time: clientTime)
            .atLine(server: "Hamilton", receivedAt: WallTime(seconds: seconds, nanoseconds: nanoseconds))
        #expect(String(decoding: line.bytes, as: UTF8.self) == "AT Hamilton \(expectedSkew) c +1-2 \(clientTime)")
    }

    @Test func locationAndTimeAreCopiedAsSent() throws {
        let line = try report(client: "phone-7", location: "+27.5916+086.5640", time: "+1621464827.50")
            .atLine(server: "Welsh", receivedAt: WallTime(seconds: 1_621_464_828, nanoseconds: 0))
        #expect(
            String(decoding: line.bytes, as: UTF8.self)
                == "AT Welsh +0.500000000 phone-7 +27.5916+086.5640 +1621464827.50")
    }

    @Test(
        "Skew description",
        arguments: [
            (0 as Int128, "+0.000000000"),
            (1, "+0.000000001"),
            (-1, "-0.000000001"),
            (1_000_000_000, "+1.000000000"),
            (-263_873_386, "-0.263873386"),
            (123_456_789_012_345_678_901_234_567, "+123456789012345678.901234567"),
            (-123_456_789_012_345_678_901_234_567, "-123456789012345678.901234567"),
            (Int128.max, "+170141183460469231731687303715.884105727"),
            (Int128.min + 1, "-170141183460469231731687303715.884105727"),
        ])
    func description(nanoseconds: Int128, expected: String) {
        #expect(Skew(nanoseconds: nanoseconds).description == expected)
    }

    @Test func appendAddsToWhatIsThereAlready() {
        var bytes = Array("AT Alford ".utf8)
        Skew(nanoseconds: -263_873_386).append(to: &bytes)
        bytes.append(ASCII.space)
        Skew(nanoseconds: 5).append(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "AT Alford -0.263873386 +0.000000005")
    }

    /// The digits against a plain rendering through the standard library, on random values of every size.
    @Test func theDescriptionAgreesWithAPlainRendering() {
        var rng = SplitMix64(seed: 0x5E3)
        for _ in 0..<5000 {
            let digits = Int.random(in: 1...38, using: &rng)
            var magnitude: Int128 = 0
            for _ in 0..<digits { magnitude = magnitude * 10 + Int128(Int.random(in: 0...9, using: &rng)) }
            let value = Bool.random(using: &rng) ? -magnitude : magnitude
            let fraction = String(magnitude % 1_000_000_000)
            let expected =
                (value < 0 ? "-" : "+") + String(magnitude / 1_000_000_000) + "."
                + String(repeating: "0", count: 9 - fraction.count) + fraction
            #expect(Skew(nanoseconds: value).description == expected)
            var appended = Array("x".utf8)
            Skew(nanoseconds: value).append(to: &appended)
            #expect(appended == Array(("x" + expected).utf8))
        }
    }

    @Test func aSkewFromTimesIsTheDifferenceToTheNanosecond() throws {
        let received = WallTime(seconds: 1_621_464_828, nanoseconds: 223_371_889)
        let sent = try #require(ClientTime(Array("1621464827.959498503".utf8)))
        #expect(Skew(received: received, sent: sent) == Skew(nanoseconds: 263_873_386))
        let ahead = try #require(ClientTime(Array("1621464829".utf8)))
        #expect(Skew(received: received, sent: ahead) == Skew(nanoseconds: -776_628_111))
    }
}
