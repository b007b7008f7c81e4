import HerdKit

// libFuzzer calls this with each input it tries; the input is one line of the protocol (LF counts as white
// space inside a line, so a seed's trailing LF is harmless). Any broken invariant traps through
// `precondition`, which libFuzzer reports as a crash and saves the input for. Nothing here may throw out
// or print: a parse failure is a normal answer (`? ` + the line), not a finding.

/// The receive time every AT line is built with, fixed so that a saved crash replays the same way.
private let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_371_889)

@_cdecl("LLVMFuzzerTestOneInput")
public func codecFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    checkLine(input)
    checkClientTime(input)
    checkCoordinates(input)
    return 0
}

/// PROTOCOL.md section 1: space, tab, LF, vertical tab, form feed and CR.
private func isWhiteSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
}

private func isDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

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

/// How many fractional digits `[+-]digits.digits` has (the sign optional unless `signed`); nil for other text.
/// A skew has exactly nine (PROTOCOL.md section 2), a described ClientTime at least nine.
private func fractionDigits(_ text: String, signed: Bool) -> Int? {
    var bytes = Array(text.utf8)[...]
    if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
        bytes = bytes.dropFirst()
    } else if signed {
        return nil
    }
    guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")) else { return nil }
    let whole = bytes[..<dot]
    let fraction = bytes[dot...].dropFirst()
    guard !whole.isEmpty, whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit) else { return nil }
    return fraction.count
}

private func checkLine(_ line: [UInt8]) {
    let result = outcome(line)
    precondition((result == .blank) == line.allSatisfy(isWhiteSpace), "blank answer iff the line is all white space")
    precondition(outcome([0x20] + line + [0x09, 0x0D]) == result, "surrounding white space changed the answer")
    checkInvalidReply(line)

    guard case .message(let message) = result else { return }
    switch message {
    case .iamat(let report):
        precondition(isClientID(report.clientID), "IAMAT client id is empty or has white space")
        precondition((try? Coordinates(iso6709: report.locationText)) == report.coordinates, "location text")
        precondition(ClientTime(report.timeText) == report.time, "time text")
        precondition((-90...90).contains(report.coordinates.latitude), "latitude out of range")
        precondition((-180...180).contains(report.coordinates.longitude), "longitude out of range")

        let update = report.atLine(server: "Fuzz", receivedAt: receivedAt)
        precondition(outcome(update.bytes) == .message(.at(update)), "the AT line does not parse back to itself")
        precondition(Replies.at(update) == update.bytes + [0x0A], "AT reply")
        let skew = Skew(received: receivedAt, sent: report.time).description
        precondition(fractionDigits(skew, signed: true) == 9, "skew is not [+-]digits.ddddddddd")
        precondition(update.bytes.starts(with: Array("AT Fuzz \(skew) ".utf8)), "AT line does not carry the skew")
    case .whatsat(let query):
        precondition(isClientID(query.clientID), "WHATSAT client id is empty or has white space")
        precondition(query.radiusKilometres > 0 && query.radiusKilometres <= 50, "radius out of (0, 50]")
        precondition((1...20).contains(query.bound), "bound out of 1...20")
    case .at(let update):
        precondition(isClientID(update.clientID), "AT client id is empty or has white space")
        precondition(outcome(update.bytes) == .message(.at(update)), "a parsed AT line does not parse to itself")
        precondition(update.bytes.filter(isWhiteSpace) == Array("     ".utf8), "AT fields not joined by one space")
        precondition((-90...90).contains(update.coordinates.latitude), "latitude out of range")
        precondition((-180...180).contains(update.coordinates.longitude), "longitude out of range")
    }
}

/// PROTOCOL.md section 4: `? `, the line without its leading and trailing white space, LF.
private func checkInvalidReply(_ line: [UInt8]) {
    let reply = Replies.invalid(line)
    precondition(reply.count >= 3 && reply.starts(with: Array("? ".utf8)) && reply.last == 0x0A, "reply framing")
    let kept = reply.dropFirst(2).dropLast()
    let start = line.firstIndex { !isWhiteSpace($0) } ?? line.endIndex
    precondition(kept.count <= line.count - start && line[start...].starts(with: kept), "reply is not the line")
    precondition(line[(start + kept.count)...].allSatisfy(isWhiteSpace), "reply dropped more than white space")
    precondition(kept.last.map(isWhiteSpace) != true, "reply kept trailing white space")
}

private func checkClientTime(_ text: [UInt8]) {
    guard let time = ClientTime(text) else { return }
    precondition(ClientTime(Array(time.description.utf8)) == time, "description does not parse back to the time")
    precondition((fractionDigits(time.description, signed: false) ?? 0) >= 9, "description format")
    precondition(!(time < time) && time == time, "ordering is not irreflexive")
    precondition(time.seconds <= ClientTime.maximumSeconds && time.nanoseconds < 1_000_000_000, "out of range")
    precondition(time.subnanoDigits.last != UInt8(ascii: "0"), "sub-nanosecond digits keep a trailing zero")
    let skew = Skew(received: receivedAt, sent: time).description
    precondition(fractionDigits(skew, signed: true) == 9, "skew is not [+-]digits.ddddddddd")
}

private func checkCoordinates(_ text: [UInt8]) {
    guard let coordinates = try? Coordinates(iso6709: text) else { return }
    precondition((-90...90).contains(coordinates.latitude), "latitude out of range")
    precondition((-180...180).contains(coordinates.longitude), "longitude out of range")
}
