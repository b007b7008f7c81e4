import AsyncHTTPClient
import Foundation
import HerdKit
import NIOCore

/// What one server's admin endpoint said, or why it said nothing.
enum StatusAnswer: Sendable {
    case up(ServerStatus)
    /// It did not answer (refused, timed out) or answered something else.
    case down(String)
    /// It has no admin endpoint in the config.
    case unknown
}

/// Fetches `GET /status` from every server of a config at once.
struct StatusFetcher: Sendable {
    let config: HerdConfig
    let timeout: Duration

    /// Where a server's admin endpoint is reached from here: its admin bind address, or its host when it
    /// binds every address.
    func adminURL(of server: HerdConfig.Server) -> String? {
        guard let port = server.adminPort else { return nil }
        let bind = config.adminBind
        var host = ["0.0.0.0", "::", "[::]"].contains(bind) ? server.host : bind
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        return "http://\(host):\(port)/status"
    }

    func fetchAll() async -> [String: StatusAnswer] {
        await withTaskGroup(of: (String, StatusAnswer).self) { group in
            for server in config.servers {
                group.addTask { (server.name, await fetch(server)) }
            }
            var answers: [String: StatusAnswer] = [:]
            for await (name, answer) in group { answers[name] = answer }
            return answers
        }
    }

    private func fetch(_ server: HerdConfig.Server) async -> StatusAnswer {
        guard let url = adminURL(of: server) else { return .unknown }
        do {
            let request = HTTPClientRequest(url: url)
            let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            guard response.status == .ok else { return .down("answered \(response.status.code)") }
            let body = try await response.body.collect(upTo: 1 << 20)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return .up(try decoder.decode(ServerStatus.self, from: Data(body.readableBytesView)))
        } catch {
            return .down("no answer from \(url): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") { return "timed out" }
        if text.contains("Connection refused") || text.contains("connection refused") { return "connection refused" }
        return text.count > 120 ? String(text.prefix(120)) + "..." : text
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
