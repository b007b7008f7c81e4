import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 13: each server's admin endpoint, scraped from `herd serve` processes after traffic whose counts
    /// the test knows.
    @Suite("Admin endpoint")
    struct AdminEndpointTests {
        @Test func metricsCountTheTrafficSentAndTheLinksThatCarriedIt() async throws {
            try await withProcessHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")], admin: true) {
                herd in
                try await herd.start(herd.names)
                let port = herd.clientPorts["Alford"]!
                let admin = herd.adminPorts["Alford"]!
                try await eventually("Alford ready") { try await AdminClient.get(port: admin, "/readyz").status == 200 }
                // Three reports, two place queries, one line that is no command; in one connection.
                let lines =
                    ["one", "two", "three"].map { Wire.iamat($0) } + ["WHATSAT one 10 1", "WHATSAT two 10 1", "HELLO"]
                let replies = try await RawClient.exchange(port: port, lines.joined(separator: "\n") + "\n")
                #expect(replies.contains("? HELLO"))
                var metrics = ""
                try await eventually("Parker to acknowledge the three updates") {
                    metrics = try await AdminClient.get(port: admin, "/metrics").body
                    return AdminClient.sample(
                        metrics, #"herd_peer_updates_acknowledged_total{server="Alford",neighbour="Parker"}"#) == 3
                }
                func value(_ series: String) -> Double? { AdminClient.sample(metrics, series) }
                #expect(value(#"herd_lines_total{server="Alford",kind="iamat"}"#) == 3)
                #expect(value(#"herd_lines_total{server="Alford",kind="whatsat"}"#) == 2)
                #expect(value(#"herd_lines_total{server="Alford",kind="invalid"}"#) == 1)
                #expect(value(#"herd_replies_total{server="Alford",kind="iamat"}"#) == 3)
                #expect(value(#"herd_replies_total{server="Alford",kind="whatsat"}"#) == 2)
                #expect(value(#"herd_replies_total{server="Alford",kind="invalid"}"#) == 1)
                #expect(value(#"herd_clients{server="Alford"}"#) == 3)
                #expect(value(#"herd_peer_updates_sent_total{server="Alford",neighbour="Parker"}"#) == 3)
                #expect(value(#"herd_peer_link_up{server="Alford",neighbour="Parker"}"#) == 1)
                #expect(value(#"herd_peer_lag_updates{server="Alford",neighbour="Parker"}"#) == 0)
                #expect(value(#"herd_provider_requests_total{server="Alford"}"#) == 2)
                #expect((value(#"herd_journal_bytes_total{server="Alford"}"#) ?? 0) > 3 * 60)
                #expect((value(#"herd_reply_latency_seconds_count{server="Alford"}"#) ?? 0) >= 1)
                #expect(value(#"herd_connections_open{server="Alford",endpoint="peers"}"#) == 1)
                // Parker got the three as AT lines from Alford.
                let parker = try await AdminClient.get(port: herd.adminPorts["Parker"]!, "/metrics").body
                #expect(AdminClient.sample(parker, #"herd_lines_total{server="Parker",kind="at"}"#) == 3)
                #expect(AdminClient.sample(parker, #"herd_clients{server="Parker"}"#) == 3)
            }
        }

        @Test func aServerWithNeighboursIsReadyOnlyOnceOneIsLinked() async throws {
            try await withProcessHerd(names: ["Alford", "Parker"], links: [("Alford", "Parker")], admin: true) {
                herd in
                try await herd.start("Alford")
                let admin = herd.adminPorts["Alford"]!
                #expect(try await AdminClient.get(port: admin, "/healthz").status == 200)
                let early = try await AdminClient.get(port: admin, "/readyz")
                #expect(early.status == 503)
                #expect(early.body.contains("no neighbour linked"), "\(early.body)")
                try await herd.start("Parker")
                try await eventually("Alford ready once Parker is linked") {
                    try await AdminClient.get(port: admin, "/readyz").status == 200
                }
                await herd.kill("Parker")
                try await eventually("Alford not ready with its only neighbour gone") {
                    try await AdminClient.get(port: admin, "/readyz").status == 503
                }
                #expect(try await AdminClient.get(port: admin, "/nothing").status == 404)
            }
        }

        @Test func herdStatusShowsALinkDownWhileItsNeighbourIsStoppedAndUpAfterItRestarts() async throws {
            try await withProcessHerd(
                names: ["Alford", "Parker", "Hamilton"], links: [("Alford", "Parker"), ("Parker", "Hamilton")],
                admin: true
            ) { herd in
                try await herd.start(herd.names)
                func status() async throws -> String {
                    let result = try await Subprocess.runHerd(["status", "--config", herd.configPath])
                    #expect(result.status == 0, "\(result.stderr)")
                    return result.stdout
                }
                /// The topology line of a link: `  Parker   ===== Hamilton`.
                func drawn(_ first: String, _ second: String, in shown: String) -> String {
                    shown.split(separator: "\n").first { line in
                        let words = line.split(separator: " ")
                        return words.count >= 3 && words[0] == first && words[2] == second
                    }.map { String($0.split(separator: " ")[1]) } ?? "missing"
                }
                var shown = ""
                try await eventually("every link up") {
                    shown = try await status()
                    return shown.contains("3 up") && shown.components(separatedBy: "=====").count == 3
                }
                #expect(drawn("Alford", "Parker", in: shown) == "=====", "\(shown)")
                await herd.kill("Hamilton")
                try await eventually("Hamilton shown down") {
                    shown = try await status()
                    return shown.contains("2 up")
                }
                let hamiltonRow = shown.split(separator: "\n").first { $0.hasPrefix("Hamilton ") }
                #expect(hamiltonRow?.contains("DOWN") == true, "\(shown)")
                try await eventually("Parker's link to Hamilton shown down") {
                    shown = try await status()
                    return ["-----", "--x--"].contains(drawn("Parker", "Hamilton", in: shown))
                }
                try await herd.start("Hamilton")
                try await eventually("Hamilton's links up again") {
                    shown = try await status()
                    return shown.contains("3 up") && drawn("Parker", "Hamilton", in: shown) == "====="
                }
            }
        }
    }
}
