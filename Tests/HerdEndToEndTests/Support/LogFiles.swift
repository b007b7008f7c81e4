import Foundation

/// Reading servers' log files, shared by the test herds.
enum LogFiles {
    /// The whole file at `path`, or "" if it does not exist yet.
    static func text(atPath path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Waits (at most `timeout`; logs are flushed every 250 ms) for a line of the log at `path` containing
    /// every one of `words`; returns it, or nil.
    static func waitForLine(atPath path: String, containing words: [String], timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let line = text(atPath: path).split(separator: "\n").first { line in
                words.allSatisfy { line.contains($0) }
            }
            if let line { return String(line) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

extension TestHerd {
    nonisolated func log(_ name: String) -> String { LogFiles.text(atPath: logPath(name)) }

    /// Waits (at most `timeout`) for a line of `name`'s log containing every one of `words`; returns it, or nil.
    nonisolated func waitForLogLine(_ name: String, containing words: [String], timeout: Duration = .seconds(30))
        async -> String?
    {
        await LogFiles.waitForLine(atPath: logPath(name), containing: words, timeout: timeout)
    }
}
