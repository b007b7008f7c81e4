import Testing

@testable import HerdKit

private func time(_ text: String) -> ClientTime? {
    ClientTime(Array(text.utf8))
}

@Suite("Client time")
struct ClientTimeTests {
    @Test(
        "Valid client times",
        arguments: [
            ("1621464827.959498503", false, 1_621_464_827 as UInt64, 959_498_503 as UInt32),
            ("-5", true, 5, 0),
            ("+5.5", false, 5, 500_000_000),
            ("0", false, 0, 0),
            ("-0", false, 0, 0),
            ("007.000000001", false, 7, 1),
            ("1.5000000009", false, 1, 500_000_000),
            ("-1621464827.1", true, 1_621_464_827, 100_000_000),
        ])
    func valid(text: String, negative: Bool, seconds: UInt64, nanoseconds: UInt32) throws {
        let parsed = try #require(time(text))
        #expect(parsed.isNegative == negative)
        #expect(parsed.seconds == seconds)
        #expect(parsed.nanoseconds == nanoseconds)
    }

    @Test(
        "Invalid client times",
        arguments: [
            "1e9", "1E9", "1.5e3", "nan", "NaN", "inf", "-inf", "infinity", "1_000", "1.", ".5", "0x10", "1.2.3", "",
            "+", "-", "+-1", "--1", "1-", "1 2", "12a", "1,5", "\u{661}",
        ])
    func invalid(text: String) {
        #expect(time(text) == nil)
    }

    @Test(
        "Ordering is exact, down to the nanosecond and beyond",
        arguments: [
            ("1.000000000", "1.0000000001"),
            ("1", "1.0000000001"),
            ("1.000000000", "1.000000001"),
            ("1621464827.959498503", "1621464827.959498504"),
            ("1621464827.9594985030001", "1621464827.9594985030002"),
            ("1.0000000001", "1.00000000012"),
            ("1.00000000012", "1.0000000002"),
            ("1.12", "1.2"),
            ("9", "10"),
            ("9.999999999", "10"),
            ("-1", "0"),
            ("-0.0000000001", "0"),
            ("0", "0.0000000001"),
            ("-5", "-4.999999999"),
            ("-10", "-9"),
            ("-1.0000000002", "-1.0000000001"),
            ("-1.0000000001", "-1"),
            ("-1621464827", "1"),
        ])
    func ordering(earlier: String, later: String) throws {
        let a = try #require(time(earlier))
        let b = try #require(time(later))
        #expect(a < b)
        #expect(b > a)
        #expect(!(b < a))
        #expect(a != b)
    }

    @Test(
        "Times that name the same instant are equal",
        arguments: [
            ("-0", "0"),
            ("-0.000", "+0"),
            ("1.5", "1.50"),
            ("1", "1.000000000"),
            ("+1", "1"),
            ("007", "7"),
            ("1.0000000001", "1.00000000010"),
            ("-2.25", "-2.2500000000000"),
        ])
    func equal(first: String, second: String) throws {
        let a = try #require(time(first))
        let b = try #require(time(second))
        #expect(a == b)
        #expect(!(a < b))
        #expect(!(b < a))
        #expect(Set([a, b]).count == 1)
    }

    @Test func sortingMixedTimes() throws {
        let texts = ["3", "-2.5", "1.0000000001", "0", "-2.50000000001", "1", "1.000000001", "-0.000000001"]
        let sorted = try texts.map { try #require(time($0)) }.sorted().map(\.description)
        #expect(
            sorted == [
                "-2.50000000001", "-2.500000000", "-0.000000001", "0.000000000", "1.000000000", "1.0000000001",
                "1.000000001", "3.000000000",
            ])
    }

    @Test(
        "Description",
        arguments: [
            ("1.5", "1.500000000"), ("-0", "0.000000000"), ("-3", "-3.000000000"),
            ("1.00000000010", "1.0000000001"), ("42.000000007", "42.000000007"),
        ])
    func description(text: String, expected: String) throws {
        #expect(try #require(time(text)).description == expected)
    }

    @Test(
        "The largest accepted time, and the smallest refused one",
        arguments: [
            ("999999999999999999", true), ("-999999999999999999.999999999999", true),
            ("000999999999999999999.5", true), ("1000000000000000000", false), ("-1000000000000000000", false),
            ("9999999999999999999", false), ("99999999999999999999999999999", false),
        ])
    func range(text: String, accepted: Bool) {
        #expect((time(text) != nil) == accepted)
    }

    @Test(
        "Contiguous bytes (the fast path) and any other collection (the generic path) read alike",
        arguments: [
            "1621464827.959498503", "-5", "+5.5", "0", "-0", "007.000000001", "1.5000000009", "1.00000000010",
            "999999999999999999", "1000000000000000000", "1e9", "1.", ".5", "", "+", "-", "1.2.3", "12a",
            "1.0000000000000000000000000000001", "-0.0000000000", "+-1",
        ])
    func fastAndGenericPathsAgree(text: String) {
        let bytes = Array(text.utf8)
        let fast = bytes.withUnsafeBytes { ClientTime(raw: $0) }
        #expect(fast == ClientTime(bytes.lazy.map { $0 }))
        #expect(fast == ClientTime(bytes))
        #expect(fast == ClientTime(bytes[...]))
    }

    @Test func fastAndGenericPathsAgreeOnRandomTexts() {
        var rng = SplitMix64(seed: 0x7157)
        let alphabet = Array("0123456789+-.e ".utf8)
        for round in 0..<20_000 {
            var bytes: [UInt8] = []
            if round % 2 == 0 {
                // Mostly well-formed: a sign, digits, a dot and digits, with now and then a byte out of place.
                if Bool.random(using: &rng) { bytes.append(Bool.random(using: &rng) ? ASCII.plus : ASCII.minus) }
                for _ in 0..<Int.random(in: 0...22, using: &rng) {
                    bytes.append(UInt8.random(in: 48...57, using: &rng))
                }
                if Int.random(in: 0..<4, using: &rng) > 0 {
                    bytes.append(ASCII.dot)
                    for _ in 0..<Int.random(in: 0...14, using: &rng) {
                        bytes.append(UInt8.random(in: 48...57, using: &rng))
                    }
                }
                if Int.random(in: 0..<10, using: &rng) == 0, !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = alphabet.randomElement(using: &rng)!
                }
            } else {
                for _ in 0..<Int.random(in: 0...12, using: &rng) { bytes.append(alphabet.randomElement(using: &rng)!) }
            }
            let fast = bytes.withUnsafeBytes { ClientTime(raw: $0) }
            let generic = ClientTime(bytes.lazy.map { $0 })
            #expect(fast == generic, "\(String(decoding: bytes, as: UTF8.self))")
            if let fast, let generic {
                #expect(fast.subnanoDigits == generic.subnanoDigits)
                #expect(fast.isNegative == generic.isNegative)
            }
        }
    }
}
