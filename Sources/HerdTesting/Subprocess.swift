import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bytes a child process writes to one of its pipes, gathered by a reader thread until end of file.
public final class PipeOutput: Sendable {
    private let state = Mutex<(bytes: [UInt8], finished: Bool)>(([], false))

    public init(reading handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                state.withLock { $0.bytes.append(contentsOf: data) }
            }
            state.withLock { $0.finished = true }
        }
        thread.start()
    }

    public var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
    public var isFinished: Bool { state.withLock { $0.finished } }
}

/// The `herd` executable run as a child process, its output collected as it comes.
///
/// Where coreutils `timeout` exists the child runs under it with a hard lifetime limit, so a test process that
/// dies before its `defer` runs cannot leave a herd behind holding ports; signals still go to `herd` itself,
/// and `timeout` passes on its exit status (or dies of the same signal).
public final class Subprocess: @unchecked Sendable {
    // @unchecked: `process` is Foundation's Process, which is thread-safe for the calls made here (run,
    // isRunning, processIdentifier, termination status); the rest is immutable.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private static let timeoutTool = "/usr/bin/timeout"
    /// Seconds after which a forgotten child is killed.
    private static let lifetimeLimit = 120

    public let process = Process()
    public let standardOutput: PipeOutput
    public let standardError: PipeOutput
    public let commandLine: String
    private let wrapped: Bool

    /// - Parameters:
    ///   - launcher: a command that runs the executable in place of itself (it must `exec`, keeping its
    ///     process id), given as an absolute path and its arguments: `["/usr/sbin/ip", "netns", "exec", "ns1"]`.
    ///   - lifetimeSeconds: the hard lifetime limit (default 120 s).
    public init(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], launcher: [String] = [],
        lifetimeSeconds: Int? = nil
    ) throws {
        wrapped = FileManager.default.isExecutableFile(atPath: Self.timeoutTool)
        let command = launcher + [executable.path] + arguments
        if wrapped {
            process.executableURL = URL(fileURLWithPath: Self.timeoutTool)
            process.arguments = ["--signal=KILL", String(lifetimeSeconds ?? Self.lifetimeLimit)] + command
        } else {
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        // A crash still prints its fatal error; the backtracer would spend seconds symbolicating it.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
            .merging(environment) { $1 }
        commandLine = command.joined(separator: " ")
        try process.run()
        standardOutput = PipeOutput(reading: out.fileHandleForReading)
        standardError = PipeOutput(reading: err.fileHandleForReading)
    }

    /// Runs `herd arguments...` to completion (at most `timeout`); returns its exit status and output.
    public static func runHerd(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let child = try Subprocess(try herdExecutable(), arguments)
        defer { child.forceKill() }
        guard let status = await child.waitForExit(timeout: timeout) else {
            throw Failure(description: "\(child.commandLine) did not exit within \(timeout)")
        }
        return (status, child.standardOutput.text, child.standardError.text)
    }

    /// The process id of `herd` itself (the child of `timeout` when wrapped); nil once it has gone.
    private func herdProcessID() -> pid_t? {
        guard process.isRunning else { return nil }
        let pid = process.processIdentifier
        guard wrapped else { return pid }
        // `timeout` forks its child at once; give it a moment to appear.
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
                let child = text.split(separator: " ").first.flatMap({ pid_t($0) })
            {
                return child
            }
            if !process.isRunning { return nil }
            usleep(5_000)
        }
        return nil
    }

    /// Waits at most `timeout` for the process to exit and its pipes to reach end of file; nil if it is still
    /// running. A process killed by a signal reports 128 + the signal number.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning || !standardOutput.isFinished || !standardError.isFinished {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    /// Waits at most `timeout` until standard output satisfies `condition`; returns whether it did.
    public func waitForOutput(timeout: Duration, until condition: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(standardOutput.text) {
            if ContinuousClock.now >= deadline || (!process.isRunning && standardOutput.isFinished) {
                return condition(standardOutput.text)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Sends SIGTERM to `herd`.
    public func terminate() {
        if let pid = herdProcessID() { kill(pid, SIGTERM) }
    }

    /// Sends `signal` to `herd` itself.
    public func send(_ signal: Int32) {
        if let pid = herdProcessID() { kill(pid, signal) }
    }

    /// Kills `herd` (and its `timeout` wrapper) if it is still running: clean-up after a failure.
    public func forceKill() {
        guard process.isRunning else { return }
        if let pid = herdProcessID() { kill(pid, SIGKILL) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The built `herd` executable: `HERD_EXECUTABLE` when set (to test another build), else next to the
    /// test bundle, else in this package's `.build/debug`.
    public static func herdExecutable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["HERD_EXECUTABLE"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var candidates: [URL] = []
        if let bundle = Bundle.main.executableURL {
            candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("herd"))
        }
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("herd"))
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/herd"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw Failure(description: "no herd executable in \(candidates.map(\.path))")
        }
        return found
    }
}
