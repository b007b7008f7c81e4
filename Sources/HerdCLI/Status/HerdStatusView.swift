import Foundation
import HerdKit

/// The herd as an operator wants to see it: a table of servers, then every configured link drawn with its
/// state from both ends. Pure, so tests can render any answers.
struct HerdStatusView {
    let config: HerdConfig
    let answers: [String: StatusAnswer]
    let at: Date

    func render() -> String {
        var out = ""
        let up = config.servers.filter { if case .up = answers[$0.name] { true } else { false } }.count
        let stamp = ISO8601DateFormatter().string(from: at)
        out += "herd \(config.source): \(config.servers.count) servers, \(up) up  (\(stamp))\n\n"
        var rows = [["SERVER", "STATE", "CLIENTS", "UPDATES/S", "CONNECTIONS", "LINKS"]]
        for server in config.servers {
            switch answers[server.name] ?? .unknown {
            case .up(let status):
                let state = status.ready ? "ready" : "up, not ready"
                let links = status.links.map { "\($0.neighbour) \($0.up ? "up" : "DOWN")\(lagNote($0))" }
                rows.append([
                    server.name, state, String(status.clients), String(format: "%.1f", status.updatesPerSecond),
                    "\(status.clientConnections) clients, \(status.peerConnections) peers",
                    links.isEmpty ? "(none)" : links.joined(separator: ", "),
                ])
            case .down:
                rows.append([server.name, "DOWN", "-", "-", "-", "-"])
            case .unknown:
                rows.append([server.name, "unknown (no admin_port)", "-", "-", "-", "-"])
            }
        }
        out += table(rows)
        let notes = config.servers.compactMap { server -> String? in
            switch answers[server.name] {
            case .down(let reason)?: "  \(server.name): \(reason)"
            case .up(let status)? where !status.ready: "  \(server.name): not ready: \(status.notReadyBecause ?? "?")"
            default: nil
            }
        }
        if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
        out += "\ntopology (=== up both ways, --- one way, -x- down, ... unknown):\n"
        let width = config.servers.map(\.name.count).max() ?? 0
        for link in config.links {
            let (symbol, note) = drawn(link)
            out += "  \(link.first.padding(toLength: width, withPad: " ", startingAt: 0)) \(symbol) \(link.second)"
            out += note.isEmpty ? "\n" : "   \(note)\n"
        }
        return out
    }

    private func lagNote(_ link: ServerStatus.Link) -> String {
        if link.lagging { return " (lagging, \(link.lag) behind)" }
        return link.lag > 0 ? " (\(link.lag) behind)" : ""
    }

    /// The link's symbol and a note, from what each end says of its own outgoing half.
    private func drawn(_ link: HerdConfig.Link) -> (String, String) {
        func half(_ from: String, _ to: String) -> Bool? {
            guard case .up(let status)? = answers[from] else { return nil }
            return status.links.first { $0.neighbour == to }?.up
        }
        let forward = half(link.first, link.second)
        let backward = half(link.second, link.first)
        switch (forward, backward) {
        case (true?, true?): return ("=====", "")
        case (nil, nil): return ("..?..", "")
        case (true?, nil), (nil, true?): return ("-----", "one end does not answer")
        case (true?, false?): return ("---->", "\(link.second) to \(link.first) is down")
        case (false?, true?): return ("<----", "\(link.first) to \(link.second) is down")
        default:
            let down = [
                forward == false ? "\(link.first) to \(link.second)" : nil,
                backward == false ? "\(link.second) to \(link.first)" : nil,
            ].compactMap { $0 }
            return ("--x--", "down: " + down.joined(separator: ", "))
        }
    }

    private func table(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
