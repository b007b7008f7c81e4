/// Runs `servers` while `body` runs: starts them all, waits until every one listens, calls `body` with each
/// server's bound endpoints by name, then stops them all and waits until every socket is closed.
///
/// For embedding a herd in a test or an application without writing the task handling each time (the
/// examples' tests use it). If a server cannot start, the others are stopped and its error is thrown.
public func withRunningServers<Result: Sendable>(
    _ servers: [HerdServer], _ body: (_ endpoints: [String: BoundEndpoints]) async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for server in servers {
            group.addTask { try await server.run() }
        }
        defer { group.cancelAll() }
        var endpoints: [String: BoundEndpoints] = [:]
        for server in servers {
            endpoints[server.name] = try await server.waitUntilBound()
        }
        let result = try await body(endpoints)
        group.cancelAll()
        while !group.isEmpty {
            _ = try? await group.next()
        }
        return result
    }
}
