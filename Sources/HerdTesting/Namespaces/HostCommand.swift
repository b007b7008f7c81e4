import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A system tool (`ip`, `iptables`, `bash`) run to completion with a deadline: the set-up and clean-up
/// steps of ``NetworkNamespaces``.
public enum HostCommand {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
        public let error: String
        public var succeeded: Bool { status == 0 }
    }

    /// Where tools are looked for besides `PATH` (a root shell's `PATH` may lack the sbin directories).
    private static let extraDirectories = [
        "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin",
    ]

    /// The absolute path of the tool `name`, or nil when there is none.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + extraDirectories
        for directory in directories where !directory.isEmpty {
            let candidate = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `arguments` (the first is the tool, a name or an absolute path) and waits at most `timeout` for it
    /// to exit; a command still running then is killed and reported with status 124, as coreutils `timeout`
    /// does.
    public static func run(_ arguments: [String], timeout: Duration = .seconds(10)) async throws -> Result {
        guard let tool = arguments.first else { throw HarnessError("no command given") }
        guard let executable = tool.hasPrefix("/") ? tool : find(tool) else {
            throw HarnessError("\(tool) not found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = PipeOutput(reading: out.fileHandleForReading)
        let error = PipeOutput(reading: err.fileHandleForReading)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning || !output.isFinished || !error.isFinished {
            if ContinuousClock.now >= deadline {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                return Result(status: 124, output: output.text, error: error.text + " (killed after \(timeout))")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        return Result(status: status, output: output.text, error: error.text)
    }

    /// Runs `arguments` and throws, naming the command and its error output, unless it succeeds.
    @discardableResult
    public static func check(_ arguments: [String], timeout: Duration = .seconds(10)) async throws -> String {
        let result = try await run(arguments, timeout: timeout)
        guard result.succeeded else {
            throw HarnessError(
                "`\(arguments.joined(separator: " "))` failed with status \(result.status): "
                    + result.error.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.output
    }
}
