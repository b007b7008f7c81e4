import Foundation
import Synchronization

/// The real `openssl` command line tool as a client (`s_client`), run with a time limit and always stopped.
public enum OpenSSLClient {
    /// Bytes a child writes, gathered by a reader thread.
    private final class Output: Sendable {
        private let state = Mutex<(bytes: [UInt8], finished: Bool)>(([], false))
        func append(_ data: Data) { state.withLock { $0.bytes.append(contentsOf: data) } }
        func finish() { state.withLock { $0.finished = true } }
        var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
        var isFinished: Bool { state.withLock { $0.finished } }
    }

    /// Runs `openssl arguments...`, writes `input`, keeps standard input open until the output (standard output
    /// and error together) satisfies `until` or `timeout` passes, then closes it and stops the process.
    public static func run(
        _ arguments: [String], input: String, until: (String) -> Bool, timeout: Duration = .seconds(20)
    ) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let outputPipe = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        process.standardInput = inputPipe
        let output = Output()
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        let reader = Thread {
            while true {
                let data = outputPipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                output.append(data)
            }
            output.finish()
        }
        reader.start()
        try inputPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && process.isRunning && !until(output.text) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try? inputPipe.fileHandleForWriting.close()
        // Then wait for it to exit and for its last output to be read.
        let exitDeadline = ContinuousClock.now + .seconds(2)
        while (process.isRunning || !output.isFinished) && ContinuousClock.now < exitDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return output.text
    }
}
