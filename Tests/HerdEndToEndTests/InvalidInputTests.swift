import HerdTesting
import Testing

extension HerdEndToEndTests {
    @Suite("Invalid input")
    struct InvalidInputTests {
        /// What one line sent should get back.
        private enum Expected {
            /// `? ` + the stripped line.
            case invalid
            /// An AT line for this IAMAT (skew read from the reply).
            case at(client: String, location: String, time: String)
            /// The AT line of the IAMAT at `client` earlier on this connection, then places JSON.
            case places(client: String, bound: Int)
            /// Nothing: a blank line.
            case nothing
        }

        private static let valid = "e2e.valid"

        /// Each line with what it should get, all sent pipelined in one write on one connection.
        private static let script: [(line: String, expected: Expected)] = [
            // Wrong field counts.
            ("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127", .invalid),
            ("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503 extra", .invalid),
            ("IAMAT", .invalid),
            ("WHATSAT kiwi.cs.ucla.edu 10", .invalid),
            ("WHATSAT kiwi.cs.ucla.edu 10 5 5", .invalid),
            // Unknown commands, and commands that only peers may send.
            ("FOO bar", .invalid),
            ("iamat kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503", .invalid),
            ("HELLO Alford", .invalid),
            ("AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503", .invalid),
            ("AT Alford +0.263873386 kiwi.cs.ucla.edu", .invalid),
            // A WHATSAT for this connection's client before it reported: unknown so far.
            ("WHATSAT \(valid) 10 5", .invalid),
            // Bad ISO 6709.
            ("IAMAT c 34.068930-118.445127 1621464827", .invalid),
            ("IAMAT c +34.068930118.445127 1621464827", .invalid),
            ("IAMAT c +34.06893O-118.445127 1621464827", .invalid),
            ("IAMAT c +34.-118.445127 1621464827", .invalid),
            ("IAMAT c +.5-118.445127 1621464827", .invalid),
            ("IAMAT c +34.068930+-118.445127 1621464827", .invalid),
            ("IAMAT c +34.068930 1621464827", .invalid),
            ("IAMAT c +3.4e1-118.445127 1621464827", .invalid),
            // Out of range coordinates.
            ("IAMAT c +90.000001-118.445127 1621464827", .invalid),
            ("IAMAT c -91+000 1621464827", .invalid),
            ("IAMAT c +00+180.5 1621464827", .invalid),
            ("IAMAT c +00-181 1621464827", .invalid),
            // Bad client times.
            ("IAMAT c +34.068930-118.445127 1.621464827e9", .invalid),
            ("IAMAT c +34.068930-118.445127 1621464827E0", .invalid),
            ("IAMAT c +34.068930-118.445127 nan", .invalid),
            ("IAMAT c +34.068930-118.445127 NaN", .invalid),
            ("IAMAT c +34.068930-118.445127 inf", .invalid),
            ("IAMAT c +34.068930-118.445127 1_621_464_827", .invalid),
            ("IAMAT c +34.068930-118.445127 0x60A6B5FB", .invalid),
            ("IAMAT c +34.068930-118.445127 1621464827.", .invalid),
            ("IAMAT c +34.068930-118.445127 .5", .invalid),
            ("IAMAT c +34.068930-118.445127 --1", .invalid),
            // A valid report in the middle: answered in its place, and the connection carries on.
            (
                "IAMAT \(valid) +34.068930-118.445127 1621464827.959498503",
                .at(
                    client: valid, location: "+34.068930-118.445127", time: "1621464827.959498503")
            ),
            ("WHATSAT \(valid) 10 5", .places(client: valid, bound: 5)),
            // Blank lines are ignored.
            ("", .nothing),
            (" \t\u{0B}\u{0C}\r", .nothing),
            // Radius out of range or not a number.
            ("WHATSAT \(valid) 0 5", .invalid),
            ("WHATSAT \(valid) 0.0 5", .invalid),
            ("WHATSAT \(valid) -1 5", .invalid),
            ("WHATSAT \(valid) -0.5 5", .invalid),
            ("WHATSAT \(valid) 50.001 5", .invalid),
            ("WHATSAT \(valid) 51 5", .invalid),
            ("WHATSAT \(valid) 1e1 5", .invalid),
            ("WHATSAT \(valid) nan 5", .invalid),
            ("WHATSAT \(valid) ten 5", .invalid),
            // Bound out of range or not an integer.
            ("WHATSAT \(valid) 10 0", .invalid),
            ("WHATSAT \(valid) 10 21", .invalid),
            ("WHATSAT \(valid) 10 -1", .invalid),
            ("WHATSAT \(valid) 10 5.0", .invalid),
            ("WHATSAT \(valid) 10 1e1", .invalid),
            // A client nobody reported.
            ("WHATSAT nobody.reported.this 10 5", .invalid),
            // The edges that are valid.
            ("WHATSAT \(valid) 50 20", .places(client: valid, bound: 20)),
            ("WHATSAT \(valid) 0.5 1", .places(client: valid, bound: 1)),
            // Leading and trailing white space is stripped from the echo; inner white space is kept as sent.
            ("  \tFOO  bar\t\tbaz \u{0C}", .invalid),
            ("IAMAT c +34.068930-118.445127   nan\r", .invalid),
            ("WHATSAT\t\(valid)\t10\t0 ", .invalid),
        ]

        @Test func invalidLinesAreEchoedInOrderAndTheConnectionStaysOpen() async throws {
            try await withTestHerd(starting: ["Alford"]) { herd in
                // The last command has no line feed: the half-close after it ends it.
                let last = "WHATSAT \(Self.valid) 10 0"
                let input = Self.script.map { $0.line + "\n" }.joined() + "  " + last
                let reply = try await herd.send(input, to: "Alford")

                var rest = Substring(reply)
                var atLines: [String: String] = [:]
                for (index, step) in (Self.script + [(last, .invalid)]).enumerated() {
                    let context = "command \(index): \(step.line.debugDescription)"
                    switch step.expected {
                    case .nothing:
                        continue
                    case .invalid:
                        let expected = Wire.invalid(step.line)
                        #expect(rest.hasPrefix(expected), "\(context); got \(rest.prefix(120).debugDescription)")
                        guard rest.hasPrefix(expected) else { return }
                        rest = rest.dropFirst(expected.count)
                    case .at(let client, let location, let time):
                        let line = try #require(rest.firstIndex(of: "\n").map { rest[...$0] }, "\(context)")
                        atLines[client] = try Wire.expectATReply(
                            String(line), server: "Alford", client: client, location: location, time: time)
                        rest = rest[line.endIndex...]
                    case .places(let client, let bound):
                        let atLine = try #require(atLines[client], "\(context)")
                        let end = try #require(rest.firstRange(of: "\n\n"), "\(context): no end of reply")
                        try Wire.expectPlacesReply(String(rest[..<end.upperBound]), atLine: atLine, bound: bound)
                        rest = rest[end.upperBound...]
                    }
                }
                #expect(rest.isEmpty, "unexpected bytes after the last reply: \(rest.prefix(200).debugDescription)")
            }
        }

        @Test func aLineEndingInCRLFIsOneLine() async throws {
            try await withTestHerd(starting: ["Alford"]) { herd in
                let reply = try await herd.send(
                    "FOO\r\n" + Wire.iamat("crlf.client") + "\r\n" + "BAR baz\r\n", to: "Alford")
                let lines = reply.split(separator: "\n", omittingEmptySubsequences: false)
                try #require(lines.count == 4, "\(reply.debugDescription)")
                #expect(lines[0] == "? FOO")
                try Wire.expectATReply(String(lines[1]) + "\n", server: "Alford", client: "crlf.client")
                #expect(lines[2] == "? BAR baz")
                #expect(lines[3] == "")
            }
        }

        /// PROTOCOL.md section 1: a line over 64 KiB is answered with `? ` and its first 256 bytes, then closed.
        @Test func anOverlongLineIsAnsweredWithItsFirst256BytesAndTheConnectionCloses() async throws {
            try await withTestHerd(starting: ["Alford"]) { herd in
                let overlong = "IAMAT " + String(repeating: "x", count: 64 * 1024)
                let reply = try await herd.send(
                    "FOO\n" + overlong + "\n" + Wire.iamat("after.overlong") + "\n", to: "Alford")
                #expect(reply == "? FOO\n? " + overlong.prefix(256) + "\n")

                // A line of exactly 64 KiB is still a line: answered, and the connection carries on.
                let longest = "X" + String(repeating: "y", count: 64 * 1024 - 1)
                let fits = try await herd.send(longest + "\nBAR\n", to: "Alford")
                #expect(fits == "? " + longest + "\n? BAR\n")
            }
        }
    }
}
