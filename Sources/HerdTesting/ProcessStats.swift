import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What Linux's `/proc` says of a `herd` child: its CPU time and resident memory, for tests that bound what
/// a hostile client can make a server spend.
public enum ProcessStats {
    /// The herd process itself: the child of the `timeout` wrapper ``Subprocess`` runs it under, if any.
    public static func serverPID(of process: Subprocess) -> Int32 {
        let pid = process.process.processIdentifier
        if let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
            let child = children.split(separator: " ").first.flatMap({ Int32($0) })
        {
            return child
        }
        return pid
    }

    /// User and system CPU time so far, in seconds.
    public static func cpuSeconds(of process: Subprocess) throws -> Double {
        let pid = serverPID(of: process)
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let end = stat.lastIndex(of: ")") else { throw HarnessError("unreadable /proc/\(pid)/stat") }
        // After the command name (in parentheses): utime and stime are the 12th and 13th fields.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw HarnessError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory now, in bytes.
    public static func residentBytes(of process: Subprocess) throws -> Int {
        let pid = serverPID(of: process)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { throw HarnessError("no VmRSS in /proc/\(pid)/status") }
        return kilobytes * 1024
    }
}
