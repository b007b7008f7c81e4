/// Why a test harness gave up: a server that did not start, a condition that never came true.
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Waits until `condition` holds, asking again every `poll`; throws naming `what` once `timeout` has
/// passed. This is how a test waits for something that happens on its own time (a flood, a log line, a
/// reconnect) without betting on a fixed sleep: the timeout only bounds a failure.
public func eventually(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(20), poll: Duration = .milliseconds(10),
    isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            throw HarnessError("timed out after \(timeout) waiting for \(what())")
        }
        try await Task.sleep(for: poll)
    }
}
