import Testing

@testable import HerdKit

@Suite("ISO 6709 coordinates")
struct CoordinatesTests {
    private func coordinates(_ text: String) throws(ProtocolError) -> Coordinates {
        try Coordinates(iso6709: Array(text.utf8))
    }

    @Test(
        "Valid ISO 6709 locations",
        arguments: [
            ("+34.068930-118.445127", 34.068930, -118.445127),
            ("+12-118", 12.0, -118.0),
            ("+27.5916+086.5640", 27.5916, 86.5640),
            ("-90+180", -90.0, 180.0),
            ("+90.000-180.0", 90.0, -180.0),
            ("-33.8688+151.2093", -33.8688, 151.2093),
            ("+0+0", 0.0, 0.0),
            ("-0.5-0.25", -0.5, -0.25),
            ("+00034.5+000118.25", 34.5, 118.25),
        ])
    func valid(text: String, latitude: Double, longitude: Double) throws {
        let parsed = try coordinates(text)
        #expect(parsed.latitude == latitude)
        #expect(parsed.longitude == longitude)
    }

    @Test(
        "Invalid ISO 6709 locations",
        arguments: [
            "34.06-118.44",  // no sign on the latitude
            "+91-118",  // latitude out of range
            "-90.5+0",
            "+90.0000001+0",
            "+34-181",  // longitude out of range
            "+34+180.5",
            "+34.-118",  // a dot with no digits after it
            "+34-118.",
            "+.5-118",
            "+34.06",  // no longitude
            "+34.06-118.44x",
            "++34-118",
            "+34--118",
            "+34+-118",
            "",
            "+",
            "+-",
            "+34-",
            "+1e1-118",
            "+nan-118",
            "+inf-118",
            "+34,5-118",
            " +34-118",
            "+34 -118",
        ])
    func invalid(text: String) {
        #expect(throws: ProtocolError.self) { try coordinates(text) }
    }

    /// PROTOCOL.md section 2: latitude must lie in [-90, 90], longitude in [-180, 180]. These values lie just
    /// outside, by less than half a unit in the last place of a Double, so a check made after converting to
    /// Double lets them through (the radius check avoids exactly this by looking at the digits).
    @Test(
        "Locations just beyond the range are refused even when a Double would round them onto it",
        arguments: ["+90.000000000000001+0", "+0+180.00000000000001", "-90.0000000000000001-180"])
    func justOutOfRange(text: String) {
        #expect(throws: ProtocolError.self) { try coordinates(text) }
    }

    @Test(
        "The limits themselves are in range, with or without zeros after the point or before the digits",
        arguments: [
            ("+90+180", 90.0, 180.0), ("-90-180", -90.0, -180.0), ("+90.000000000000000000-180.0000", 90.0, -180.0),
            ("+0090+000180", 90.0, 180.0), ("-00090.0-0180.000", -90.0, -180.0),
            ("+89.999999999999999999+179.99999999999999999", 90.0, 180.0),
            ("+0000000000000000000000000001+0", 1.0, 0.0), ("-0-0", 0.0, 0.0),
        ])
    func limits(text: String, latitude: Double, longitude: Double) throws {
        let parsed = try coordinates(text)
        #expect(parsed.latitude == latitude)
        #expect(parsed.longitude == longitude)
        #expect(parsed == Coordinates(validated: ArraySlice(text.utf8)))
    }

    @Test(
        "Above a limit by any fraction, or by leading zeros that do not hide it, is out of range",
        arguments: [
            "+90.1+0", "+90.0000000000000000000000000001+0", "-90.000000001+0", "+0+180.1", "+0-180.0000000001",
            "+00091+0", "+000090.5+0", "+0+0181", "+0+000180.01", "+91.0+0", "+100+0", "+0+1000",
            "+999999999999999999999999+0", "+0+99999999999999999999999999999",
        ])
    func aboveALimit(text: String) {
        #expect(throws: ProtocolError.self) { try coordinates(text) }
    }

    @Test func theReasonNamesTheFieldOutOfRange() {
        #expect(throws: ProtocolError("latitude out of range [-90, 90]")) { try coordinates("+90.5+0") }
        #expect(throws: ProtocolError("longitude out of range [-180, 180]")) { try coordinates("+0-180.5") }
        #expect(throws: ProtocolError("latitude is not a decimal number of degrees")) { try coordinates("+9x+0") }
    }
}
