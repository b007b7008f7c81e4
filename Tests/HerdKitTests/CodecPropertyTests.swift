import PropertyBased
import Testing

@testable import HerdKit

// Property-based tests of the codec: lines are generated from known field values (so the expected parse
// result is known without parsing), and arbitrary bytes are thrown at the parser to check that it always
// answers. A failure prints the input and a `.fixedSeed(...)` that replays it.

/// PROTOCOL.md section 1: the bytes that separate fields.
private let whiteSpace: [UInt8] = Array(" \t\n\u{0B}\u{0C}\r".utf8)

private func isWhiteSpace(_ byte: UInt8) -> Bool { whiteSpace.contains(byte) }

/// A line of bytes that prints readably (escaped, shortened) when a property fails.
private struct Line: Sendable, CustomTestStringConvertible {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var testDescription: String {
        let shown = bytes.prefix(300).map { byte -> String in
            switch byte {
            case 0x20...0x7E where byte != UInt8(ascii: "\\"): String(UnicodeScalar(byte))
            default: "\\x" + String(byte, radix: 16)
            }
        }
        let more = bytes.count > 300 ? "... (\(bytes.count) bytes)" : ""
        return "\"" + shown.joined() + "\"" + more
    }
}

// MARK: - Drawing fields from known values

private func draw(_ range: ClosedRange<Int>, _ rng: inout some RandomNumberGenerator) -> Int {
    Int.random(in: range, using: &rng)
}

private func chance(_ percent: Int, _ rng: inout some RandomNumberGenerator) -> Bool {
    draw(1...100, &rng) <= percent
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: UInt8(ascii: "0"), count: count) }

/// `value` in decimal, left-padded with zeros to `width` digits.
private func padded(_ value: some BinaryInteger, width: Int) -> [UInt8] {
    let digits = bytes(String(value))
    return zeros(max(0, width - digits.count)) + digits
}

private func whiteSpaceRun(_ counts: ClosedRange<Int>, _ rng: inout some RandomNumberGenerator) -> [UInt8] {
    (0..<draw(counts, &rng)).map { _ in whiteSpace.randomElement(using: &rng)! }
}

/// A client id: printable ASCII without white space (`!` to `~`).
private func clientID(_ rng: inout some RandomNumberGenerator) -> [UInt8] {
    (0..<draw(1...24, &rng)).map { _ in UInt8.random(in: 0x21...0x7E, using: &rng) }
}

/// A non-negative decimal `whole[.fraction]` up to `limit` (above zero if `positive`), as text, with the value
/// it names.
///
/// The value is `numerator / 10^digits` with an exactly representable numerator, so the Double division is
/// the correctly rounded value of the text: the expectation is computed without parsing the text.
private func decimal(
    upTo limit: Int, positive: Bool = false, _ rng: inout some RandomNumberGenerator
) -> (text: [UInt8], value: Double) {
    var whole = draw(0...limit, &rng)
    let digits = chance(25, &rng) ? 0 : draw(1...12, &rng)
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    var fraction = whole == limit ? 0 : draw(0...(scale - 1), &rng)
    if positive, whole == 0, fraction == 0 {
        if digits > 0 { fraction = 1 } else { whole = 1 }
    }
    var text = zeros(chance(20, &rng) ? draw(1...3, &rng) : 0) + bytes(String(whole))
    if digits > 0 {
        // Trailing zeros change the digit count, not the value.
        text += [ASCII.dot] + padded(fraction, width: digits) + zeros(chance(20, &rng) ? draw(1...10, &rng) : 0)
    }
    return (text, Double(whole * scale + fraction) / Double(scale))
}

/// A signed ISO 6709 angle within `limit` degrees.
private func degrees(upTo limit: Int, _ rng: inout some RandomNumberGenerator) -> (text: [UInt8], value: Double) {
    let (text, value) = decimal(upTo: limit, &rng)
    return Bool.random(using: &rng) ? ([ASCII.plus] + text, value) : ([ASCII.minus] + text, -value)
}

/// A client time `[+-]?seconds[.fraction]` and the time it names.
private func clientTime(_ rng: inout some RandomNumberGenerator) -> (text: [UInt8], time: ClientTime) {
    let sign = draw(0...2, &rng)
    let seconds =
        chance(50, &rng)
        ? UInt64.random(in: 1_000_000_000...2_000_000_000, using: &rng)
        : UInt64.random(in: 0...ClientTime.maximumSeconds, using: &rng)
    var text = sign == 0 ? [] : [sign == 1 ? ASCII.plus : ASCII.minus]
    text += zeros(chance(15, &rng) ? draw(1...3, &rng) : 0) + bytes(String(seconds))
    var nanoseconds: UInt32 = 0
    var subnano: [UInt8] = []
    if chance(75, &rng) {
        let beyondNine = chance(25, &rng)
        let digits = beyondNine ? 9 : draw(1...9, &rng)
        var unit: UInt32 = 1
        for _ in digits..<9 { unit *= 10 }
        let shown = UInt32.random(in: 0...(1_000_000_000 / unit - 1), using: &rng)
        nanoseconds = shown * unit
        text += [ASCII.dot] + padded(shown, width: digits)
        if beyondNine {
            subnano = (0..<draw(0...8, &rng)).map { _ in UInt8.random(in: ASCII.zero...ASCII.nine, using: &rng) }
            subnano.append(UInt8.random(in: UInt8(ascii: "1")...ASCII.nine, using: &rng))
            text += subnano + zeros(chance(30, &rng) ? draw(1...4, &rng) : 0)
        }
    }
    let time = ClientTime(isNegative: sign == 2, seconds: seconds, nanoseconds: nanoseconds, subnanoDigits: subnano)
    return (text, time)
}

/// Fields joined by runs of white space, with optional white space around the line.
private func joined(_ fields: [[UInt8]], _ rng: inout some RandomNumberGenerator) -> [UInt8] {
    var line = whiteSpaceRun(0...3, &rng)
    for (index, field) in fields.enumerated() {
        if index > 0 { line += whiteSpaceRun(1...4, &rng) }
        line += field
    }
    return line + whiteSpaceRun(0...3, &rng)
}

// MARK: - Generated cases

/// A valid line and the message value (IAmAt or WhatsAt) it must parse to.
private struct ValidLine<Expected: Sendable>: Sendable, CustomTestStringConvertible {
    var line: Line
    var expected: Expected
    var testDescription: String { line.testDescription }
}

/// A valid IAMAT line, the report it must parse to and the coordinates that report must give.
private struct IAmAtCase: Sendable, CustomTestStringConvertible {
    var line: Line
    var expected: IAmAt
    var coordinates: Coordinates
    var testDescription: String { line.testDescription }
}

private func iamatCase(_ rng: inout some RandomNumberGenerator) -> IAmAtCase {
    let id = clientID(&rng)
    let latitude = degrees(upTo: 90, &rng)
    let longitude = degrees(upTo: 180, &rng)
    let location = latitude.text + longitude.text
    let time = clientTime(&rng)
    let expected = IAmAt(
        clientID: ClientID(id), time: time.time, locationText: ArraySlice(location), timeText: ArraySlice(time.text))
    return IAmAtCase(
        line: Line(joined([bytes("IAMAT"), id, location, time.text], &rng)), expected: expected,
        coordinates: Coordinates(latitude: latitude.value, longitude: longitude.value))
}

/// A valid IAMAT with the server name and receive time of the server that answers it.
private struct ReceivedCase: Sendable, CustomTestStringConvertible {
    var report: IAmAtCase
    var server: String
    var receivedAt: WallTime
    var testDescription: String { "\(report.testDescription) received by \(server) at \(receivedAt)" }
}

private func receivedCase(_ rng: inout some RandomNumberGenerator) -> ReceivedCase {
    let server = String(
        (0..<draw(1...12, &rng)).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x41...0x5A, using: &rng))) })
    let receivedAt = WallTime(
        seconds: Int64.random(in: 0...4_000_000_000, using: &rng),
        nanoseconds: Int32.random(in: 0...999_999_999, using: &rng))
    return ReceivedCase(report: iamatCase(&rng), server: server, receivedAt: receivedAt)
}

private func whatsatCase(_ rng: inout some RandomNumberGenerator) -> ValidLine<WhatsAt> {
    let id = clientID(&rng)
    let radius = decimal(upTo: 50, positive: true, &rng)
    let bound = draw(1...20, &rng)
    let boundText = zeros(chance(20, &rng) ? draw(1...3, &rng) : 0) + bytes(String(bound))
    return ValidLine(
        line: Line(joined([bytes("WHATSAT"), id, radius.text, boundText], &rng)),
        expected: WhatsAt(clientID: ClientID(id), radiusKilometres: radius.value, bound: bound))
}

/// A valid line of any command: IAMAT, WHATSAT, or the AT line a server builds from an IAMAT.
private func validLine(_ rng: inout some RandomNumberGenerator) -> [UInt8] {
    switch draw(0...2, &rng) {
    case 0: return iamatCase(&rng).line.bytes
    case 1: return whatsatCase(&rng).line.bytes
    default:
        let received = receivedCase(&rng)
        return received.report.expected.atLine(server: received.server, receivedAt: received.receivedAt).bytes
    }
}

private func digits(_ count: Int, _ rng: inout some RandomNumberGenerator) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: ASCII.zero...ASCII.nine, using: &rng) }
}

private func nonZeroDigit(_ rng: inout some RandomNumberGenerator) -> UInt8 {
    UInt8.random(in: UInt8(ascii: "1")...ASCII.nine, using: &rng)
}

/// A plain decimal whose value is greater than `limit`, sometimes by less than a Double can tell.
private func beyond(_ limit: Int, _ rng: inout some RandomNumberGenerator) -> [UInt8] {
    let magnitude: [UInt8]
    switch draw(0...2, &rng) {
    case 0:
        let whole = bytes(String(draw((limit + 1)...1_000_000, &rng)))
        magnitude = chance(50, &rng) ? whole + [ASCII.dot] + digits(draw(1...6, &rng), &rng) : whole
    case 1:
        magnitude = bytes(String(limit)) + [ASCII.dot] + zeros(draw(0...25, &rng)) + [nonZeroDigit(&rng)]
    default:
        magnitude = [nonZeroDigit(&rng)] + digits(draw(18...30, &rng), &rng)
    }
    return zeros(chance(20, &rng) ? draw(1...3, &rng) : 0) + magnitude
}

private func signed(_ magnitude: [UInt8], _ rng: inout some RandomNumberGenerator) -> [UInt8] {
    [Bool.random(using: &rng) ? ASCII.plus : ASCII.minus] + magnitude
}

/// An IAMAT or WHATSAT line with exactly one field out of its range.
private let outOfRangeLines = Generator { rng in
    let id = clientID(&rng)
    let latitude = degrees(upTo: 90, &rng).text
    let longitude = degrees(upTo: 180, &rng).text
    let time = clientTime(&rng).text
    let radius = decimal(upTo: 50, positive: true, &rng).text
    let bound = bytes(String(draw(1...20, &rng)))
    let fields: [[UInt8]]
    switch draw(0...6, &rng) {
    case 0: fields = [bytes("IAMAT"), id, signed(beyond(90, &rng), &rng) + longitude, time]
    case 1: fields = [bytes("IAMAT"), id, latitude + signed(beyond(180, &rng), &rng), time]
    case 2:
        // Whole seconds past ClientTime.maximumSeconds (18 nines).
        let seconds = [nonZeroDigit(&rng)] + digits(draw(18...30, &rng), &rng)
        let fraction = chance(50, &rng) ? [ASCII.dot] + digits(draw(1...12, &rng), &rng) : []
        let sign = chance(50, &rng) ? [] : [Bool.random(using: &rng) ? ASCII.plus : ASCII.minus]
        fields = [bytes("IAMAT"), id, latitude + longitude, sign + seconds + fraction]
    case 3:
        let zero = zeros(draw(1...3, &rng)) + (chance(50, &rng) ? [ASCII.dot] + zeros(draw(1...8, &rng)) : [])
        fields = [bytes("WHATSAT"), id, zero, bound]
    case 4: fields = [bytes("WHATSAT"), id, [ASCII.minus] + radius, bound]
    case 5: fields = [bytes("WHATSAT"), id, beyond(50, &rng), bound]
    default:
        let outside =
            chance(30, &rng)
            ? zeros(draw(1...3, &rng)) : zeros(draw(0...2, &rng)) + bytes(String(draw(21...1_000_000, &rng)))
        fields = [bytes("WHATSAT"), id, radius, chance(80, &rng) ? outside : [nonZeroDigit(&rng)] + digits(25, &rng)]
    }
    return Line(joined(fields, &rng))
}

/// Pieces that steer random lines towards the parser's interesting paths.
private let tokens: [[UInt8]] =
    [
        "IAMAT", "WHATSAT", "AT", "+", "-", ".", "0", "1", "9", "90", "180", "50", "20", "21", "e", "inf", "nan", "_",
        " ", "\t", "\r", "\n", "\u{0B}", "\u{0C}", "\u{0}", "kiwi.cs.ucla.edu", "+34.068930-118.445127",
        "1621464827.959498503", "+0.263873386", "999999999999999999", "1000000000000000000",
    ].map { Array($0.utf8) } + [[0xFF], [0x80], [0xC3, 0xA9], [0xE2, 0x80, 0xA8]]

/// Arbitrary lines of a few hundred bytes at most: random bytes, random tokens, and valid lines with a few
/// bytes changed, inserted or removed.
private let arbitraryLines = Generator { rng in
    switch draw(0...2, &rng) {
    case 0:
        return Line((0..<draw(0...64, &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    case 1:
        return Line((0..<draw(1...40, &rng)).flatMap { _ in tokens.randomElement(using: &rng)! })
    default:
        var line = validLine(&rng)
        for _ in 0..<draw(1...4, &rng) {
            let index = draw(0...line.count, &rng)
            let replacement =
                chance(50, &rng) ? tokens.randomElement(using: &rng)! : [UInt8.random(in: 0...255, using: &rng)]
            switch draw(0...2, &rng) {
            case 0 where index < line.count: line.replaceSubrange(index...index, with: replacement)
            case 1 where index < line.count: line.remove(at: index)
            default: line.insert(contentsOf: replacement, at: index)
            }
        }
        return Line(line)
    }
}

/// Lines of tens to hundreds of KB: random bytes, huge numbers, and very many fields.
private let longLines = Generator { rng in
    let size = draw(20_000...300_000, &rng)
    let id = clientID(&rng)
    switch draw(0...6, &rng) {
    case 0:
        return Line((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
    case 1:
        return Line(bytes("IAMAT ") + id + [ASCII.space, ASCII.plus] + digits(size, &rng) + bytes("-1 1"))
    case 2:
        return Line(bytes("IAMAT ") + id + bytes(" +1.") + digits(size, &rng) + bytes("-1 1.") + digits(size, &rng))
    case 3:
        return Line(bytes("WHATSAT ") + id + bytes(" 0.") + zeros(size) + [nonZeroDigit(&rng)] + bytes(" 5"))
    case 4:
        return Line(bytes("AT S +") + digits(size, &rng) + bytes(".0 ") + id + bytes(" +1-1 1"))
    case 5:
        let command = [bytes("IAMAT"), bytes("WHATSAT"), bytes("AT")].randomElement(using: &rng)!
        var line = command
        while line.count < size { line += [ASCII.space] + tokens.randomElement(using: &rng)! }
        return Line(line)
    default:
        return Line(
            bytes("IAMAT ") + (0..<size).map { _ in UInt8.random(in: 0x21...0x7E, using: &rng) } + bytes(" +1-1 1"))
    }
}

// MARK: - What every answer must satisfy

/// What the parser made of a line, comparable across lines.
private enum Outcome: Equatable {
    case blank
    case message(Message)
    case invalid
}

private func outcome(_ line: [UInt8]) -> Outcome {
    do {
        guard let message = try MessageParser.parse(line) else { return .blank }
        return .message(message)
    } catch {
        return .invalid
    }
}

private func isClientID(_ id: ClientID) -> Bool {
    !id.bytes.isEmpty && !id.bytes.contains(where: isWhiteSpace)
}

/// PROTOCOL.md section 4 for any line: `? `, the line without its leading and trailing white space, LF.
private func checkInvalidReply(_ line: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    let reply = Replies.invalid(line)
    #expect(Reply.invalid(line).bytes == reply, sourceLocation: sourceLocation)
    guard reply.count >= 3, reply.starts(with: bytes("? ")), reply.last == ASCII.lineFeed else {
        Issue.record("reply \(Line(reply)) is not \"? \" + text + LF", sourceLocation: sourceLocation)
        return
    }
    let kept = reply.dropFirst(2).dropLast()
    let start = line.firstIndex { !isWhiteSpace($0) } ?? line.endIndex
    let keptIsLine =
        kept.count <= line.count - start && line[start...].starts(with: kept)
        && line[(start + kept.count)...].allSatisfy(isWhiteSpace)
    #expect(keptIsLine, "reply \(Line(reply)) is not the stripped line", sourceLocation: sourceLocation)
    #expect(kept.last.map(isWhiteSpace) != true, sourceLocation: sourceLocation)
}

/// The parser always answers, and every answer is consistent with itself and with the protocol.
private func checkAnswer(_ line: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    let result = outcome(line)
    #expect((result == .blank) == line.allSatisfy(isWhiteSpace), sourceLocation: sourceLocation)
    // Leading and trailing white space never change the answer (PROTOCOL.md section 1).
    #expect(outcome(bytes("\t ") + line + bytes(" \r")) == result, sourceLocation: sourceLocation)
    checkInvalidReply(line, sourceLocation: sourceLocation)
    guard case .message(let message) = result else { return }
    switch message {
    case .iamat(let report):
        #expect(isClientID(report.clientID), sourceLocation: sourceLocation)
        #expect((try? Coordinates(iso6709: report.locationText)) == report.coordinates, sourceLocation: sourceLocation)
        #expect(ClientTime(report.timeText) == report.time, sourceLocation: sourceLocation)
        #expect((-90...90).contains(report.coordinates.latitude), sourceLocation: sourceLocation)
        #expect((-180...180).contains(report.coordinates.longitude), sourceLocation: sourceLocation)
        let update = report.atLine(server: "Alford", receivedAt: WallTime(seconds: 1_621_464_828, nanoseconds: 0))
        #expect(outcome(update.bytes) == .message(.at(update)), sourceLocation: sourceLocation)
    case .whatsat(let query):
        #expect(isClientID(query.clientID), sourceLocation: sourceLocation)
        #expect(query.radiusKilometres > 0 && query.radiusKilometres <= 50, sourceLocation: sourceLocation)
        #expect((1...20).contains(query.bound), sourceLocation: sourceLocation)
    case .at(let update):
        // Flooded on unchanged: the line the parser keeps parses to itself, fields joined by single spaces.
        #expect(outcome(update.bytes) == .message(.at(update)), sourceLocation: sourceLocation)
        #expect(update.bytes.filter(isWhiteSpace) == bytes("     "), sourceLocation: sourceLocation)
        #expect(isClientID(update.clientID), sourceLocation: sourceLocation)
    }
}

// MARK: - The properties

@Suite("Codec properties")
struct CodecPropertyTests {
    @Test("Generated IAMAT lines parse to the fields they were made from")
    func iamatParsesToItsFields() async {
        await propertyCheck(count: 500, input: Generator { rng in iamatCase(&rng) }) { testCase in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            #expect(outcome(testCase.line.bytes) == .message(.iamat(testCase.expected)))
            #expect(testCase.expected.coordinates == testCase.coordinates)
            if case .message(.iamat(let report)) = outcome(testCase.line.bytes) {
                #expect(report.coordinates == testCase.coordinates)
            }
        }
    }

    @Test("The AT line built from an IAMAT parses back with the same client, location, time and skew")
    func atLineRoundTrip() async {
        await propertyCheck(count: 500, input: Generator { rng in receivedCase(&rng) }) { testCase in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            let report = testCase.report.expected
            let update = report.atLine(server: testCase.server, receivedAt: testCase.receivedAt)
            #expect(outcome(update.bytes) == .message(.at(update)))
            #expect(update.server == testCase.server)
            #expect(update.clientID == report.clientID)
            #expect(update.coordinates == testCase.report.coordinates)
            #expect(update.time == report.time)
            #expect(Replies.at(update) == update.bytes + [ASCII.lineFeed])

            let fields = update.bytes.split(separator: ASCII.space, omittingEmptySubsequences: false).map(Array.init)
            try #require(fields.count == 6)
            #expect(fields[0] == bytes("AT"))
            #expect(fields[1] == bytes(testCase.server))
            #expect(fields[3][...] == report.clientID.bytes)
            #expect(fields[4][...] == report.locationText)
            #expect(fields[5][...] == report.timeText)
            checkSkew(fields[2], testCase)
        }
    }

    /// The skew is `[+-]digits.ddddddddd` and names the receive time minus the client time, to the nanosecond.
    private func checkSkew(_ skew: [UInt8], _ testCase: ReceivedCase) {
        let dot = skew.count - 10
        let wellFormed =
            skew.count >= 12 && (skew[0] == ASCII.plus || skew[0] == ASCII.minus) && skew[dot] == ASCII.dot
            && skew[1..<dot].allSatisfy(ASCII.isDigit) && skew[(dot + 1)...].allSatisfy(ASCII.isDigit)
        #expect(wellFormed, "skew \(Line(skew)) is not a sign, digits, a dot and nine digits")
        guard wellFormed, let nanoseconds = Int128(String(decoding: skew[..<dot] + skew[(dot + 1)...], as: UTF8.self))
        else { return }
        #expect((skew[0] == ASCII.minus) == (nanoseconds < 0), "a zero skew is +0.000000000")

        let time = testCase.report.expected.time
        let clientMagnitude = Int128(time.seconds) * 1_000_000_000 + Int128(time.nanoseconds)
        let client = time.isNegative ? -clientMagnitude : clientMagnitude
        let received = Int128(testCase.receivedAt.seconds) * 1_000_000_000 + Int128(testCase.receivedAt.nanoseconds)
        let difference = received - client
        if time.subnanoDigits.isEmpty {
            #expect(nanoseconds == difference)
        } else {
            // The exact skew lies strictly between two nanoseconds (SkewTests pins which one is printed).
            let beyond: Int128 = time.isNegative ? 1 : -1
            #expect(nanoseconds == difference || nanoseconds == difference + beyond)
        }
    }

    @Test("Generated WHATSAT lines parse to the fields they were made from")
    func whatsatParsesToItsFields() async {
        await propertyCheck(count: 500, input: Generator { rng in whatsatCase(&rng) }) { testCase in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            #expect(outcome(testCase.line.bytes) == .message(.whatsat(testCase.expected)))
        }
    }

    @Test("Out-of-range locations, times, radii and bounds are refused")
    func outOfRangeIsRefused() async {
        await propertyCheck(count: 500, input: outOfRangeLines) { line in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            #expect(outcome(line.bytes) == .invalid)
        }
    }

    @Test("The invalid reply is ? + the line without its surrounding white space + LF")
    func invalidReplyKeepsInnerBytes() async {
        let lines = Generator { rng in
            let core = (0..<draw(1...40, &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            guard let first = core.firstIndex(where: { !isWhiteSpace($0) }),
                let last = core.lastIndex(where: { !isWhiteSpace($0) })
            else { return (Line([]), Line(whiteSpaceRun(0...4, &rng))) }
            let trimmed = Array(core[first...last])
            return (Line(trimmed), Line(whiteSpaceRun(0...4, &rng) + trimmed + whiteSpaceRun(0...4, &rng)))
        }
        await propertyCheck(count: 500, input: lines) { trimmed, line in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            #expect(Replies.invalid(line.bytes) == bytes("? ") + trimmed.bytes + [ASCII.lineFeed])
            #expect(Reply.invalid(line.bytes).bytes == bytes("? ") + trimmed.bytes + [ASCII.lineFeed])
        }
    }

    @Test("Any line gets an answer consistent with the protocol: blank, a valid message, or invalid")
    func arbitraryLinesAreAnswered() async {
        await propertyCheck(count: 1000, input: arbitraryLines) { line in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            checkAnswer(line.bytes)
        }
    }

    @Test("Lines of hundreds of KB (huge numbers, many fields, random bytes) are answered too")
    func longLinesAreAnswered() async {
        await propertyCheck(count: 25, input: longLines) { line in
            await Task.yield()  // long CPU-bound runs must not starve other suites' I/O tasks
            checkAnswer(line.bytes)
        }
    }
}

@Suite("Codec regressions found by the property tests")
struct CodecRegressionTests {
    /// PROTOCOL.md section 3 allows any radius above zero; one smaller than the smallest Double used to reach the
    /// place provider as 0 km (found by `longLinesAreAnswered`).
    @Test(
        "A radius above zero but below the smallest Double stays above zero",
        arguments: [400, 323, 330, 100_000])
    func tinyRadiusStaysPositive(zeros count: Int) throws {
        let line = bytes("WHATSAT kiwi 0.") + zeros(count) + bytes("1 5")
        guard case .message(.whatsat(let query)) = outcome(line) else {
            Issue.record("\(Line(line)) does not parse as WHATSAT")
            return
        }
        #expect(query.radiusKilometres > 0)
        #expect(query.radiusKilometres < 1e-300)
        #expect(query.radiusMetres > 0)
        #expect(query.bound == 5)
    }
}
