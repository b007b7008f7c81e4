/// What a line was, for the `kind` label of `herd_lines_total` and `herd_replies_total`.
enum LineKind: Int, CaseIterable {
    case iamat, whatsat, at, invalid

    var label: String {
        switch self {
        case .iamat: "iamat"
        case .whatsat: "whatsat"
        case .at: "at"
        case .invalid: "invalid"
        }
    }

    /// By the command word, before the pipeline runs; a line the pipeline answers with `? ` is counted as
    /// invalid instead.
    static func of(_ line: some Collection<UInt8>) -> LineKind {
        var word = line.drop { ASCII.isWhiteSpace($0) }.prefix { !ASCII.isWhiteSpace($0) }.makeIterator()
        func next() -> UInt8? { word.next() }
        switch (next(), next(), next()) {
        case (UInt8(ascii: "I"), UInt8(ascii: "A"), UInt8(ascii: "M")): return .iamat
        case (UInt8(ascii: "W"), UInt8(ascii: "H"), UInt8(ascii: "A")): return .whatsat
        case (UInt8(ascii: "A"), UInt8(ascii: "T"), nil): return .at
        default: return .invalid
        }
    }
}
