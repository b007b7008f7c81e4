import ArgumentParser
import Foundation
import HerdKit
import HerdSimulator
import NIOCore
import NIOPosix

/// `herd simulate validate`: the simulator's figures for the five-server reference herd against the real
/// herd, five `herd serve` processes with the same latency on every peer link (delay proxies), so the
/// scaling study's model is checked where it can be.
struct SimulateValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare the simulated reference herd with five real processes at one peer-link latency.",
        discussion: """
            Starts the reference herd as five processes whose peer links pass through delay proxies, sends \
            reports to Hamilton one at a time, and polls the other four with WHATSAT until each holds the \
            report; counts the AT lines the servers sent from their /metrics. Then runs the same reports in \
            the simulator and prints both, and fails if convergence time or messages per update differ by more \
            than --tolerance.
            """)

    @Option(help: "Reports to send.") var updates = 30
    @Option(name: .customLong("latency-ms"), help: "One-way latency of every peer link, in milliseconds.")
    var latencyMilliseconds = 10.0
    @Option(help: "Largest relative difference accepted.") var tolerance = 0.2

    func run() async throws {
        let real = try await measureRealHerd()
        var study = ScalingStudy()
        study.updates = updates
        study.linkLatency = .nanoseconds(Int64(latencyMilliseconds * 1_000_000))
        let simulated = try study.measure(.reference, condition: .clean, origin: "Hamilton")
        let convergence = simulated.convergenceMilliseconds / real.convergenceMilliseconds
        let messages = simulated.messagesPerUpdate / real.messagesPerUpdate
        print("reference herd, reports into Hamilton, \(latencyMilliseconds) ms per peer link, \(updates) reports")
        print(
            String(
                format: "  real (5 processes):  convergence %.2f ms, %.2f AT lines per update",
                real.convergenceMilliseconds, real.messagesPerUpdate))
        print(
            String(
                format: "  simulated:           convergence %.2f ms, %.2f AT lines per update",
                simulated.convergenceMilliseconds, simulated.messagesPerUpdate))
        print(String(format: "  simulated / real:    convergence %.3f, messages %.3f", convergence, messages))
        fflush(nil)
        guard abs(convergence - 1) <= tolerance, abs(messages - 1) <= tolerance else {
            throw CommandFailure("the simulation is more than \(Int(tolerance * 100)) % off the real herd")
        }
    }

    private struct RealFigures {
        var convergenceMilliseconds: Double
        var messagesPerUpdate: Double
    }

    private func measureRealHerd() async throws -> RealFigures {
        let names = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-validate-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var ports: [String: (client: Int, peer: Int, admin: Int)] = [:]
        for name in names {
            ports[name] = (
                try BlockingLineClient.freePort(), try BlockingLineClient.freePort(), try BlockingLineClient.freePort()
            )
        }
        // Neighbours dial 127.0.0.2 (a proxy), which forwards to the server bound on 127.0.0.1.
        var yaml = "servers:\n"
        for name in names {
            let port = ports[name]!
            yaml +=
                "  - {name: \(name), host: 127.0.0.2, bind: 127.0.0.1, client_port: \(port.client), peer_port: \(port.peer), admin_port: \(port.admin)}\n"
        }
        yaml += "links: [[Alford, Parker], [Alford, Welsh], [Bolden, Parker], [Bolden, Welsh], [Hamilton, Parker]]\n"
        yaml += "log_dir: \(directory)/logs\ndata_dir: \(directory)/data\nlog_level: notice\n"
        yaml += "peer_links: {redial_initial_ms: 20, redial_max_ms: 500}\n"
        let configPath = directory + "/herd.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var proxies: [DelayProxy] = []
        var processes: [Process] = []
        defer {
            for process in processes where process.isRunning { process.terminate() }
            for process in processes { process.waitUntilExit() }
        }
        let delay = TimeAmount.nanoseconds(Int64(latencyMilliseconds * 1_000_000))
        for name in names {
            let port = ports[name]!.peer
            proxies.append(
                try await DelayProxy(
                    listen: Endpoint(host: "127.0.0.2", port: port), target: Endpoint(host: "127.0.0.1", port: port),
                    delay: delay, group: group))
        }
        for name in names {
            let process = Process()
            process.executableURL = DeterministicHashing.executable
            process.arguments = ["serve", name, "--config", configPath]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            processes.append(process)
        }
        // A server that exits at once (a bad config, a port taken) says why in `herd check`.
        try await Task.sleep(for: .milliseconds(500))
        if let dead = processes.firstIndex(where: { !$0.isRunning }) {
            throw CommandFailure(
                "herd serve \(names[dead]) exited with status \(processes[dead].terminationStatus); try herd check --config \(configPath)"
            )
        }
        // Ready once every admin endpoint says so and every peer link is up.
        let deadline = Date().addingTimeInterval(30)
        for name in names {
            while (try? BlockingLineClient.get(host: "127.0.0.1", port: ports[name]!.admin, path: "/readyz"))?
                .hasPrefix("ready") != true
            {
                guard Date() < deadline else { throw CommandFailure("\(name) did not become ready within 30 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        try await Task.sleep(for: .seconds(1))

        func sentTotal() throws -> Double {
            var total = 0.0
            for name in names {
                let metrics = try BlockingLineClient.get(host: "127.0.0.1", port: ports[name]!.admin, path: "/metrics")
                for line in metrics.split(separator: "\n") where line.hasPrefix("herd_peer_updates_sent_total") {
                    total += Double(line.split(separator: " ").last ?? "0") ?? 0
                }
            }
            return total
        }
        let origin = try BlockingLineClient(host: "127.0.0.1", port: ports["Hamilton"]!.client)
        let others = try names.filter { $0 != "Hamilton" }.map {
            ($0, try BlockingLineClient(host: "127.0.0.1", port: ports[$0]!.client))
        }
        let before = try sentTotal()
        var convergence: [Double] = []
        for index in 0..<updates {
            let client = "validate\(index)"
            let sent = ContinuousClock.now
            try origin.send("IAMAT \(client) +34.068930-118.445127 \(WallTime.now().seconds).000000000\n")
            _ = try origin.readLine()
            var last = sent
            for (name, probe) in others {
                while true {
                    try probe.send("WHATSAT \(client) 1 1\n")
                    if try probe.readAnswer().hasPrefix("AT ") { break }
                    guard ContinuousClock.now - sent < .seconds(10) else {
                        throw CommandFailure("\(name) did not get \(client) within 10 s")
                    }
                }
                last = max(last, ContinuousClock.now)
            }
            convergence.append((last - sent) / .milliseconds(1))
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
        let messages = (try sentTotal() - before) / Double(updates)
        for proxy in proxies { await proxy.close() }
        try await group.shutdownGracefully()
        return RealFigures(
            convergenceMilliseconds: convergence.reduce(0, +) / Double(convergence.count), messagesPerUpdate: messages)
    }
}
