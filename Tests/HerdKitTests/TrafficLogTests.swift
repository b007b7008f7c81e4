import Foundation
import NIOCore
import Testing

@testable import HerdKit

/// What a traffic log wrote to its file, one record per line, each without its timestamp (the first field).
private func records(_ log: TrafficLog, file: LogFile) throws -> [String] {
    log.flush()
    file.flush()
    let text = try String(contentsOfFile: file.path, encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { record in
        String(record.drop { $0 != " " }.dropFirst())
    }
}

/// A traffic log writing to a fresh file, removed when `body` returns.
private func withTrafficLog(enabled: Bool = true, _ body: (TrafficLog, LogFile) throws -> Void) throws {
    try withTemporaryDirectory { directory in
        let file = try LogFile(path: directory + "/Alford.log")
        try body(TrafficLog(file: file, enabled: enabled), file)
    }
}

/// The bytes a person reading the log gets back from `escaped`: the inverse of the escaping, for the tests.
private func unescaped(_ escaped: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = escaped.utf8.startIndex
    let utf8 = escaped.utf8
    while index != utf8.endIndex {
        let byte = utf8[index]
        index = utf8.index(after: index)
        guard byte == UInt8(ascii: "\\") else {
            bytes.append(byte)
            continue
        }
        let kind = utf8[index]
        index = utf8.index(after: index)
        switch kind {
        case UInt8(ascii: "n"): bytes.append(ASCII.lineFeed)
        case UInt8(ascii: "\\"): bytes.append(ASCII.backslash)
        default:
            let end = utf8.index(index, offsetBy: 2)
            bytes.append(UInt8(String(decoding: utf8[index..<end], as: UTF8.self), radix: 16)!)
            index = end
        }
    }
    return bytes
}

private let clientPrefix = TrafficLog.prefix(server: "Alford", origin: .client("127.0.0.1:5000"))

@Suite("Traffic log")
struct TrafficLogTests {
    @Test func linesReadAndRepliesWrittenAreRecordedInOrder() throws {
        try withTrafficLog { log, file throws in
            let peerPrefix = TrafficLog.prefix(server: "Alford", origin: .peer("Welsh"))
            log.input(ByteBuffer(string: "IAMAT kiwi +1-1 1"), prefix: clientPrefix)
            log.output(.line(Array("AT Alford +0.000000000 kiwi +1-1 1".utf8)), prefix: clientPrefix)
            log.input(bytes: Array("AT Welsh +0.000000000 apple +1-1 1".utf8), prefix: peerPrefix)
            log.output(Reply(bytes: Array("AT x\n{}\n\n".utf8)), prefix: clientPrefix)
            #expect(
                try records(log, file: file) == [
                    "info Alford: client 127.0.0.1:5000 < IAMAT kiwi +1-1 1",
                    "info Alford: client 127.0.0.1:5000 > AT Alford +0.000000000 kiwi +1-1 1",
                    "info Alford: peer Welsh < AT Welsh +0.000000000 apple +1-1 1",
                    "info Alford: client 127.0.0.1:5000 > AT x\\n{}\\n",
                ])
        }
    }

    @Test func onlyTheReadableBytesOfABufferAreLogged() throws {
        try withTrafficLog { log, file throws in
            var buffer = ByteBuffer(string: "WHATSAT kiwi 10 5\nIAMAT")
            buffer.moveWriterIndex(to: 17)
            buffer.moveReaderIndex(forwardBy: 8)
            log.input(buffer, prefix: clientPrefix)
            #expect(try records(log, file: file) == ["info Alford: client 127.0.0.1:5000 < kiwi 10 5"])
        }
    }

    @Test(
        "Control bytes, bytes from 0x7F and the backslash are escaped",
        arguments: [
            ([0x00, 0x41, 0x1F], "\\x00A\\x1F"), (Array("a\\b".utf8), "a\\\\b"),
            ([0x7E, 0x7F, 0x80, 0xFF], "~\\x7F\\x80\\xFF"),
            (Array("\u{1B}[31mred".utf8), "\\x1B[31mred"), (Array("fake\ninfo line".utf8), "fake\\ninfo line"),
            (Array("tab\tcr\r".utf8), "tab\\x09cr\\x0D"), (Array("caf\u{E9}".utf8), "caf\\xC3\\xA9"),
            (Array(" !~".utf8), " !~"),
        ] as [([UInt8], String)])
    func escaping(line: [UInt8], expected: String) throws {
        try withTrafficLog { log, file throws in
            log.input(bytes: line, prefix: clientPrefix)
            log.output(Reply(bytes: line + [ASCII.lineFeed]), prefix: clientPrefix)
            #expect(
                try records(log, file: file) == [
                    "info Alford: client 127.0.0.1:5000 < \(expected)",
                    "info Alford: client 127.0.0.1:5000 > \(expected)",
                ])
        }
    }

    @Test func aDisabledLogWritesNothing() throws {
        try withTrafficLog(enabled: false) { log, file throws in
            #expect(!log.isEnabled)
            log.input(bytes: Array("IAMAT kiwi +1-1 1".utf8), prefix: clientPrefix)
            log.output(.line(Array("x".utf8)), prefix: clientPrefix)
            #expect(try records(log, file: file).isEmpty)
        }
        #expect(!TrafficLog(file: nil, enabled: true).isEnabled)
    }

    @Test func oneTimestampServesEveryRecordOfAPass() throws {
        try withTrafficLog { log, file throws in
            log.input(bytes: Array("one".utf8), prefix: clientPrefix)
            log.input(bytes: Array("two".utf8), prefix: clientPrefix)
            log.flush()
            file.flush()
            let stamps = try String(contentsOfFile: file.path, encoding: .utf8).split(separator: "\n").map {
                $0.prefix { $0 != " " }
            }
            #expect(stamps.count == 2)
            #expect(stamps[0] == stamps[1])
            #expect(stamps[0].hasSuffix("Z") && stamps[0].contains("T"))
        }
    }

    /// `needsEscaping` reads eight bytes at a time; a plain per-byte check must agree, at every length and
    /// alignment, especially for bytes next to the boundaries (0x1F/0x20, 0x5B-0x5D, 0x7E/0x7F, 0x80, 0xFF).
    @Test func needsEscapingAgreesWithAPerByteCheck() {
        var rng = SplitMix64(seed: 0x10C)
        let edges: [UInt8] = [0x00, 0x0A, 0x1F, 0x20, 0x21, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xA0, 0xFE, 0xFF]
        for round in 0..<20_000 {
            let count = Int.random(in: 0...40, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
            if round % 4 != 0 {
                bytes.removeAll { $0 == ASCII.backslash }
                // Mostly printable, with now and then one or two edge bytes anywhere.
                for _ in 0..<Int.random(in: 0...2, using: &rng) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = edges.randomElement(using: &rng)!
                }
            } else {
                bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            let offset = Int.random(in: 0...min(7, bytes.count), using: &rng)
            let expected = bytes[offset...].contains { $0 < 0x20 || $0 >= 0x7F || $0 == ASCII.backslash }
            let answer = bytes.withUnsafeBytes {
                TrafficLog.needsEscaping(UnsafeRawBufferPointer(rebasing: $0[offset...]))
            }
            #expect(answer == expected, "\(Array(bytes[offset...]))")
        }
    }

    /// Whatever a line holds, its record is printable ASCII on one line and reads back to the line.
    @Test func anyLineIsLoggedAsOnePrintableRecordThatReadsBack() throws {
        var rng = SplitMix64(seed: 0xE5C)
        var lines: [[UInt8]] = []
        for _ in 0..<300 {
            lines.append((0..<Int.random(in: 0...60, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        try withTrafficLog { log, file throws in
            for line in lines { log.input(bytes: line, prefix: clientPrefix) }
            let logged = try records(log, file: file)
            #expect(logged.count == lines.count)
            for (record, line) in zip(logged, lines) {
                let escaped = String(record.dropFirst("info Alford: client 127.0.0.1:5000 < ".count))
                #expect(escaped.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
                #expect(unescaped(escaped) == line)
            }
        }
    }
}
