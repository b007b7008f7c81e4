import Foundation
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 12: a five-server herd, each server in a network namespace of its own, under IAMAT load while a
    /// seeded nemesis SIGKILLs and restarts servers and cuts and heals links (iptables in the namespaces).
    /// Afterwards every server must hold, for every client, the same record, and that record must be the
    /// last writer: no older than the newest acknowledged report of that client, and one that was sent.
    ///
    /// The seed is printed first; `HERD_NEMESIS_SEED=<seed> swift test --filter NemesisTests` replays the same
    /// schedule of faults and the same load (the interleaving of load and faults still varies with timing).
    /// Skipped where network namespaces cannot be made (not root, no iptables).
    @Suite("Nemesis: kills and cut links under load")
    struct NemesisTests {
        static let servers = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]
        static let links: [(String, String)] = [
            ("Alford", "Parker"), ("Alford", "Welsh"), ("Bolden", "Parker"), ("Bolden", "Welsh"),
            ("Hamilton", "Parker"),
        ]

        @Test func everyAcknowledgedUpdateConvergesToTheLastWriterEverywhere() async throws {
            if let reason = await NetworkNamespaces.unavailableReason() {
                print("NemesisTests skipped: \(reason)")
                try Test.cancel("skipped, network namespaces unavailable: \(reason)")
            }
            let seed = try NemesisSeed.current()
            let plan = NemesisPlan(seed: seed.value, servers: Self.servers, links: Self.links)
            print("\(seed)\(seed.replayed ? ", from HERD_NEMESIS_SEED" : "")\nplan:\n\(plan.description)")
            try await withNamespaceHerd(names: Self.servers, links: Self.links) { herd in
                let run = NemesisRun(herd: herd, seed: seed, plan: plan)
                do {
                    try await run.run()
                } catch {
                    run.fail("\(error)")
                }
            }
        }
    }
}

/// One nemesis run: start the herd, load and faults, heal, wait for convergence, check.
private final class NemesisRun {
    let herd: NamespaceHerd
    let seed: NemesisSeed
    let plan: NemesisPlan
    let load: NemesisLoad
    private var preserved: String?

    init(herd: NamespaceHerd, seed: NemesisSeed, plan: NemesisPlan) {
        self.herd = herd
        self.seed = seed
        self.plan = plan
        load = NemesisLoad(
            clients: 300, servers: herd.names.map { ($0, herd.host(of: $0)) }, port: herd.clientPort, seed: seed.value)
    }

    /// Records a failure naming the seed and where the herd's logs and data were kept.
    func fail(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if preserved == nil {
            preserved = (try? herd.preserve(to: "/tmp/herd-nemesis-\(seed.value)")) ?? "(could not copy the logs)"
        }
        Issue.record(
            "\(message)\n\(seed)\nlogs, data and config of the run: \(preserved!)", sourceLocation: sourceLocation)
    }

    func run() async throws {
        let started = ContinuousClock.now
        try await herd.start(herd.names)
        print("nemesis: herd up in \(ContinuousClock.now - started), namespaces \(herd.namespaces.names.first!)...")

        let loadStart = ContinuousClock.now
        do {
            let load = load
            async let loaded: Void = load.run(workers: 4)
            defer { load.stop() }
            try await perform(plan)
            load.stop()
            await loaded
        }
        let reports = load.reports
        let acknowledged = reports.filter { $0.reply != nil }.count
        print(
            "nemesis: load and faults done in \(ContinuousClock.now - loadStart): \(reports.count) reports sent, "
                + "\(acknowledged) acknowledged, \(load.tieCount) tied batches")
        for anomaly in load.unexpectedReplies.prefix(10) { fail("unexpected reply to an IAMAT: \(anomaly)") }

        // Everything healed and running (the plan ends so; this makes sure).
        try await herd.namespaces.healAll()
        for name in herd.names {
            if await !herd.isRunning(name) { try await herd.start(name) }
        }

        let healed = ContinuousClock.now
        guard let table = try await awaitConvergence() else { return }
        print("nemesis: converged \(ContinuousClock.now - healed) after the last heal")
        check(table, against: reports)
    }

    /// Carries out the plan's events at their times (a start takes as long as the server takes to bind).
    private func perform(_ plan: NemesisPlan) async throws {
        let begin = ContinuousClock.now
        for event in plan.events {
            try await Task.sleep(until: begin + .milliseconds(event.at))
            switch event.action {
            case .kill(let server): await herd.kill(server)
            case .start(let server): try await herd.start(server)
            case .cut(let a, let b, let how): try await herd.cut(a, b, how)
            case .heal(let a, let b): try await herd.heal(a, b)
            }
            let late = ContinuousClock.now - (begin + .milliseconds(event.at))
            if late > .seconds(2) { print("nemesis: \(event.action) done \(late) after its time") }
        }
        try await Task.sleep(until: begin + .milliseconds(plan.duration))
    }

    /// Asks every server for every client (pipelined WHATSATs) until all answer with the same first lines
    /// and every acknowledged client is known; returns that table (client: its AT line, or nil when no server
    /// knows it), or nil after recording a failure.
    private func awaitConvergence() async throws -> [String: String]? {
        let clients = load.clients
        let acknowledged = Set(load.reports.filter { $0.reply != nil }.map(\.client))
        var last: [String: [String: String?]] = [:]
        do {
            try await eventually(
                "every server to hold the same record of every client", timeout: .seconds(60),
                poll: .milliseconds(500)
            ) {
                last = [:]
                for name in herd.names {
                    last[name] = try? await Self.table(
                        host: herd.host(of: name), port: herd.clientPort, clients: clients)
                }
                guard herd.names.allSatisfy({ !(last[$0]?.isEmpty ?? true) }) else { return false }
                let first = last[herd.names[0]]!
                return herd.names.allSatisfy { last[$0]! == first }
                    && acknowledged.allSatisfy { first[$0] != nil && first[$0]! != nil }
            }
        } catch {
            var differences: [String] = []
            for client in clients {
                let answers = herd.names.map { name -> String in
                    guard let table = last[name], let answer = table[client] else { return "no answer" }
                    return answer ?? "unknown"
                }
                if Set(answers).count > 1 || (acknowledged.contains(client) && answers.contains("unknown")) {
                    differences.append(
                        "\(client):\n" + zip(herd.names, answers).map { "    \($0): \($1)" }.joined(separator: "\n"))
                }
            }
            let silent = herd.names.filter { last[$0]?.isEmpty ?? true }
            fail(
                "the herd did not converge within 60 s of the last heal\(silent.isEmpty ? "" : "; no full answer from \(silent)"); "
                    + "\(differences.count) clients differ, e.g.\n" + differences.prefix(8).joined(separator: "\n")
                    + "\n" + logExcerpt(for: differences.prefix(2).map { String($0.prefix { $0 != ":" }) }) + "\n"
                    + linkExcerpt())
            return nil
        }
        let first = last[herd.names[0]]!
        return first.compactMapValues { $0 }
    }

    /// The first line of each client's WHATSAT answer at one server (nil: unknown there); empty if the server
    /// did not answer for every client.
    private static func table(host: String, port: Int, clients: [String]) async throws -> [String: String?] {
        let text = try await RawConnection.onThread {
            let connection = try RawConnection(host: host, port: port)
            try connection.write(clients.map { "WHATSAT \($0) 10 1\n" }.joined())
            connection.finishWriting()
            return String(decoding: try connection.readToEnd(), as: UTF8.self)
        }
        let replies = Wire.splitReplies(text)
        guard replies.count == clients.count else { return [:] }
        var table: [String: String?] = [:]
        for (client, reply) in zip(clients, replies) {
            table[client] = reply.hasPrefix("? ") ? .some(nil) : String(reply.prefix { $0 != "\n" })
        }
        return table
    }

    /// The last-writer rule, client by client: the record every server holds is one the load sent (at the
    /// server it names, with its location and time), byte for byte the acknowledgement if it was acknowledged,
    /// and no older than the newest acknowledged report of that client. A tie (two reports with one time)
    /// may go either way: every server agreeing is checked already.
    private func check(_ table: [String: String], against reports: [SentReport]) {
        let byClient = Dictionary(grouping: reports, by: \.client)
        var violations: [(client: String, reason: String)] = []
        for client in load.clients {
            let sent = byClient[client] ?? []
            let newest = sent.filter { $0.reply != nil }.max { $0.rank < $1.rank }
            guard let held = table[client] else {
                if let newest {
                    violations.append((client, "no server knows it, yet \(newest.reply!) was acknowledged"))
                }
                continue
            }
            let fields = held.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, fields[0] == "AT", fields[3] == client,
                let source = sent.first(where: {
                    $0.server == fields[1] && $0.location == fields[4] && $0.time == fields[5]
                })
            else {
                violations.append((client, "every server holds \(held), which the load never sent"))
                continue
            }
            if let reply = source.reply, reply != held {
                violations.append((client, "every server holds \(held), but the report was acknowledged as \(reply)"))
            }
            if let newest, source.rank < newest.rank {
                violations.append(
                    (
                        client,
                        "every server holds \(held) (time rank \(source.rank)), older than the acknowledged \(newest.reply!) (rank \(newest.rank))"
                    ))
            }
        }
        let known = table.count
        print("nemesis: \(known) of \(load.clients.count) clients known everywhere, \(violations.count) violations")
        guard !violations.isEmpty else { return }
        fail(
            "\(violations.count) clients break the last-writer rule, e.g.\n"
                + violations.prefix(10).map { "  \($0.client): \($0.reason)" }.joined(separator: "\n") + "\n"
                + logExcerpt(for: violations.prefix(2).map(\.client)))
    }

    /// The last peer link events of every server (links that stay down, or are refused, are why a herd does
    /// not converge).
    private func linkExcerpt() -> String {
        herd.names.map { name in
            let log = (try? String(contentsOfFile: herd.logPath(name), encoding: .utf8)) ?? ""
            let events = log.split(separator: "\n").filter { $0.contains(" peer link ") }
            return "last peer link events of \(name) (4 of \(events.count)):\n"
                + events.suffix(4).map { "    \($0.prefix(300))" }.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// The log lines of every server that mention one of `clients` (at most 12 a client), to show a failure's
    /// story without opening the logs.
    private func logExcerpt(for clients: [String]) -> String {
        var excerpt: [String] = []
        for client in clients {
            var lines: [String] = []
            for name in herd.names {
                guard let log = try? String(contentsOfFile: herd.logPath(name), encoding: .utf8) else { continue }
                // The client's IAMATs and their replies; not the WHATSATs of the convergence check.
                lines += log.split(separator: "\n")
                    .filter {
                        $0.contains(" \(client) ") && !$0.contains("WHATSAT") && !$0.contains("html_attributions")
                    }
                    .map { "    \(name).log: \($0)" }
            }
            // Each line starts with its ISO 8601 time stamp: sorting by the text after the server's name
            // orders them in time across servers.
            lines.sort { $0.drop { $0 != ":" } < $1.drop { $0 != ":" } }
            excerpt.append(
                "log lines about \(client) (last 12 of \(lines.count)):\n" + lines.suffix(12).joined(separator: "\n"))
        }
        return excerpt.joined(separator: "\n")
    }
}
