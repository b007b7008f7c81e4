import Foundation

/// Reading servers' log files.
public enum LogFiles {
    /// The whole file at `path`, or "" if it does not exist yet.
    public static func text(atPath path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The first line of the log at `path` containing every one of `words`, or nil.
    public static func line(atPath path: String, containing words: [String]) -> String? {
        text(atPath: path).split(separator: "\n").first { line in words.allSatisfy { line.contains($0) } }
            .map(String.init)
    }
}
