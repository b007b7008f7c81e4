/// Which of two updates for one client a server keeps: the single rule every server applies, so the herd
/// converges whatever order updates arrive in (PROTOCOL.md section 2).
enum UpdateOrder {
    /// Whether `candidate` replaces `stored`. A newer client time always wins. With equal times, a client's
    /// own report is a duplicate (answered, neither stored nor flooded), while between AT lines the greater
    /// line, byte by byte, wins, so two servers that took the same time from one client settle on one line.
    static func supersedes(
        _ candidate: ATLine, local: Bool, stored storedTime: ClientTime, storedLine: [UInt8]
    ) -> Bool {
        if storedTime < candidate.time { return true }
        if local || candidate.time != storedTime { return false }
        return storedLine.withUnsafeBytes { stored in
            candidate.bytes.withUnsafeBytes { new in
                let common = min(stored.count, new.count)
                let order = common == 0 ? 0 : memcmp(stored.baseAddress!, new.baseAddress!, common)
                return order < 0 || (order == 0 && stored.count < new.count)
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
