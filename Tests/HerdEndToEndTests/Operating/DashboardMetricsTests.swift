import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// The metric names the Grafana dashboard and deploy/ rely on (deploy/grafana/metric-names.txt) are the
    /// ones a running server serves: a server on TLS for both endpoints, scraped after a little traffic.
    @Suite("Dashboard metric names")
    struct DashboardMetricsTests {
        static var listed: [String] {
            get throws {
                let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().deletingLastPathComponent()
                let text = try String(
                    contentsOf: root.appendingPathComponent("deploy/grafana/metric-names.txt"), encoding: .utf8)
                return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            }
        }

        @Test func everyNameTheDashboardUsesIsServedAtMetrics() async throws {
            let yaml = """
                servers:
                  - {name: Alford, client_port: 0, peer_port: 0, admin_port: 0}
                  - {name: Parker, client_port: 0, peer_port: 0, admin_port: 0}
                links: [[Alford, Parker]]
                """
            try await withTestHerd(yaml: yaml, security: .tls(clients: true, peers: true)) { herd in
                let atLine = try await herd.report("kiwi", at: "Alford")
                try await herd.awaitLocation(of: "kiwi", atLine: atLine, at: "Parker")
                guard let admin = try await herd.endpoints("Alford").admin else {
                    Issue.record("Alford has no admin endpoint")
                    return
                }
                let metrics = try await AdminClient.get(port: admin.port, "/metrics").body
                let served = Set(
                    metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
                        $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
                    })
                let names = try Self.listed
                #expect(names.count >= 19)
                for name in names {
                    #expect(
                        served.contains(name) || served.contains(name + "_count"),
                        "\(name) is listed for the dashboard but /metrics does not serve it")
                }
                let expiry = served.contains("herd_tls_certificate_expiry_timestamp_seconds")
                #expect(expiry)
            }
        }
    }
}
