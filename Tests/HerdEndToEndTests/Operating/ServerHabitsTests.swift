import Foundation
import HerdKit
import HerdTesting
import Testing

extension HerdEndToEndTests {
    /// Issue 13: what a service manager and a log shipper expect of `herd`: a version, exit status 78 for every
    /// config error, a `check` that builds every part, logs to standard error or as JSON, SIGHUP to reopen.
    @Suite("Server habits")
    struct ServerHabitsTests {
        private static func config(_ yaml: String) throws -> (path: String, remove: @Sendable () -> Void) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-habits-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = directory + "/herd.yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return (path, { try? FileManager.default.removeItem(atPath: directory) })
        }

        @Test func versionIsPrinted() async throws {
            let result = try await Subprocess.runHerd(["--version"])
            #expect(result.status == 0)
            #expect(result.stdout == Herd.version + "\n")
        }

        @Test func everyConfigErrorExitsWith78AndNamesTheKey() async throws {
            let cases: [(yaml: String, key: String)] = [
                ("servers:\n  - {name: A, client_port: 70000, peer_port: 1}\n", "servers[0].client_port"),
                (
                    "servers:\n  - {name: A, client_port: 1, peer_port: 2}\npipeline: [parse, {name: respond, options: {colour: red}}]\n",
                    "pipeline[1].options.colour"
                ),
                (
                    "servers:\n  - {name: A, client_port: 1, peer_port: 2}\nprovider: {name: google, options: {api_key_env: HERD_TEST_UNSET_KEY}}\n",
                    "provider.options.api_key_env"
                ),
                (
                    "servers:\n  - {name: A, client_port: 1, peer_port: 2}\ntransport: {clients: {name: tls, options: {certificate: missing.pem, private_key: missing.key}}}\n",
                    "transport.clients.options"
                ),
                ("servers:\n  - {name: A, client_port: 1, peer_port: 2}\nlog_format: yaml\n", "log_format"),
            ]
            for (yaml, key) in cases {
                let file = try Self.config(yaml)
                defer { file.remove() }
                for command in [["check", "--config", file.path], ["serve", "A", "--config", file.path]] {
                    let result = try await Subprocess.runHerd(command)
                    #expect(result.status == 78, "herd \(command[0]) on \(yaml): \(result.status) \(result.stderr)")
                    #expect(result.stderr.contains(file.path) && result.stderr.contains(key), "\(result.stderr)")
                }
            }
        }

        @Test func jsonLogsAreOneObjectPerLineWithTheTrafficEscaped() async throws {
            try await withProcessHerd(names: ["Alford"], links: [], extra: "log_format: json") { herd in
                try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                _ = try await RawClient.exchange(port: port, "HELLO \"quoted\"\u{1B}[31m\n")
                _ = await herd.stop("Alford")
                let text = try String(contentsOfFile: herd.logPath("Alford"), encoding: .utf8)
                var traffic: [[String: String]] = []
                for line in text.split(separator: "\n") {
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    #expect(object?["time"] != nil && object?["level"] != nil, "\(line)")
                    if let direction = object?["direction"] as? String, let logged = object?["line"] as? String {
                        traffic.append(["direction": direction, "line": logged])
                    }
                }
                #expect(traffic.contains { $0["direction"] == "in" && $0["line"] == "HELLO \"quoted\"\u{1B}[31m" })
                #expect(!text.contains("\u{1B}"), "a raw escape byte reached the log")
            }
        }

        @Test func logDirDashLogsToStandardError() async throws {
            try await withProcessHerd(names: ["Alford"], links: [], extra: "log_dir: \"-\"") { herd in
                let process = try await herd.start("Alford")
                _ = try await RawClient.exchange(port: herd.clientPorts["Alford"]!, Wire.iamat("to.stderr") + "\n")
                let logged = await process.waitForOutput(timeout: .seconds(10)) { _ in
                    process.standardError.text.contains("to.stderr")
                }
                #expect(logged, "stderr: \(process.standardError.text)")
                #expect(!FileManager.default.fileExists(atPath: herd.logPath("Alford")))
            }
        }

        @Test func sighupReopensTheLogFileAfterItWasMoved() async throws {
            try await withProcessHerd(names: ["Alford"], links: []) { herd in
                let process = try await herd.start("Alford")
                let port = herd.clientPorts["Alford"]!
                _ = try await RawClient.exchange(port: port, Wire.iamat("before.rotation") + "\n")
                let path = herd.logPath("Alford")
                try await eventually("the first report in the log") {
                    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("before.rotation")
                }
                try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
                process.send(SIGHUP)
                try await eventually("a new log file") { FileManager.default.fileExists(atPath: path) }
                _ = try await RawClient.exchange(port: port, Wire.iamat("after.rotation") + "\n")
                try await eventually("the second report in the new log") {
                    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("after.rotation")
                }
                let old = try String(contentsOfFile: path + ".1", encoding: .utf8)
                #expect(old.contains("before.rotation") && !old.contains("after.rotation"))
            }
        }
    }
}
