import Foundation
import HerdKit

/// A property the herd broke in one simulated run.
public struct Violation: Sendable, CustomStringConvertible {
    public var check: String
    public var detail: String

    public var description: String { "\(check): \(detail)" }
}

/// The properties every run must end with (Docs/simulation.md).
enum Checks {
    /// Durability: a server that answered an update holds it (or a newer one of the same client) when it
    /// starts again, before it hears from anyone: nothing was answered before it was journalled.
    static func durability(of server: String, store: any LocationStore, history: History) -> [Violation] {
        var latest: [String: String] = [:]
        for ack in history.acknowledged where ack.server == server {
            if let known = latest[ack.client], LastWriterWins.covers(known, ack.line) { continue }
            latest[ack.client] = ack.line
        }
        var violations: [Violation] = []
        for (client, line) in latest.sorted(by: { $0.key < $1.key }) {
            let held = store.record(for: ClientID(client)).map { String(decoding: $0.bytes, as: UTF8.self) }
            guard let held, LastWriterWins.covers(held, line) else {
                violations.append(
                    Violation(
                        check: "durability",
                        detail:
                            "\(server) answered \"\(line)\" before it crashed, and restarted holding \(held.map { "\"\($0)\"" } ?? "nothing") for \(client)"
                    ))
                continue
            }
        }
        return violations
    }

    /// Convergence, once every server runs and every link is healed: for every client with an answered
    /// update, each server holds a line at least as late as every answered one (so every acknowledged update
    /// reached every server connected to its origin), and all hold the same line (so equal times were
    /// settled the same way everywhere).
    static func convergence(servers: [String], store: (String) -> (any LocationStore)?, history: History)
        -> [Violation]
    {
        var winners: [String: History.Acknowledgement] = [:]
        for ack in history.acknowledged {
            if let known = winners[ack.client], !LastWriterWins.beats(ack.line, known.line) { continue }
            winners[ack.client] = ack
        }
        var violations: [Violation] = []
        for (client, winner) in winners.sorted(by: { $0.key < $1.key }) {
            var held: [String: String] = [:]
            for server in servers {
                guard let store = store(server) else { continue }
                held[server] =
                    store.record(for: ClientID(client)).map { String(decoding: $0.bytes, as: UTF8.self) }
                    ?? "nothing"
            }
            let missing = held.filter { !LastWriterWins.covers($0.value, winner.line) }.keys.sorted()
            if !missing.isEmpty {
                violations.append(
                    Violation(
                        check: "propagation",
                        detail:
                            "\(winner.server) acknowledged \"\(winner.line)\" at \(format(winner.at)) s; \(missing.joined(separator: ", ")) hold \(Set(missing.map { held[$0]! }).map { "\"\($0)\"" }.sorted().joined(separator: " / "))"
                    ))
            } else if Set(held.values).count > 1 {
                let groups = Dictionary(grouping: held.keys.sorted()) { held[$0]! }
                violations.append(
                    Violation(
                        check: "agreement",
                        detail: "servers hold different lines for \(client): "
                            + groups.sorted { $0.key < $1.key }.map {
                                "\($0.value.joined(separator: ",")) \"\($0.key)\""
                            }
                            .joined(separator: "; ")))
            }
        }
        for wrong in history.wrongReplies.prefix(5) {
            violations.append(Violation(check: "replies", detail: wrong))
        }
        return violations
    }

    static func format(_ seconds: Double) -> String {
        String(format: "%.3f", seconds)
    }
}
