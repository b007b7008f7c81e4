import Foundation
import HerdKit

/// A herd run as `herd serve` child processes, one per server, from a config file whose ports are held
/// for it (``PortReservation``) for the whole test, so a server killed and started again gets its ports
/// back and no other process can take them in between.
///
/// For what only a real process shows: SIGKILL, SIGTERM, exit codes, the command line's output.
public actor ProcessHerd {
    public nonisolated let directory: String
    public nonisolated let configPath: String
    public nonisolated let names: [String]
    public nonisolated let clientPorts: [String: Int]
    public nonisolated let peerPorts: [String: Int]
    /// Each server's admin port, when the herd was made with `admin: true`.
    public nonisolated let adminPorts: [String: Int]
    private let reservation: PortReservation
    private let executable: URL
    private var processes: [String: Subprocess] = [:]

    /// - Parameters:
    ///   - names: the servers, each with a client and a peer port on 127.0.0.1.
    ///   - links: pairs of names.
    ///   - extra: more top-level YAML (limits, storage, transport...); `log_dir` and `data_dir` are set
    ///     to `logs` and `data` in the scratch directory unless given here.
    ///   - executable: the herd build to run (default ``Subprocess/herdExecutable()``).
    ///   - peerPorts: peer ports to write instead of reserved ones (a ``StandInPeer`` playing that server).
    ///   - admin: give every server an admin endpoint (`/metrics`, `/readyz`, `/status`).
    public init(
        names: [String] = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"],
        links: [(String, String)] = [
            ("Alford", "Parker"), ("Alford", "Welsh"), ("Bolden", "Parker"), ("Bolden", "Welsh"),
            ("Hamilton", "Parker"),
        ],
        extra: String = "peer_links: {redial_initial_ms: 50, redial_max_ms: 250}", executable: URL? = nil,
        peerPorts overrides: [String: Int] = [:], admin: Bool = false
    ) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herd-processes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let reservation = try PortReservation(count: names.count * (admin ? 3 : 2))
        var clientPorts: [String: Int] = [:]
        var peerPorts: [String: Int] = [:]
        var adminPorts: [String: Int] = [:]
        var yaml = "servers:\n"
        for (index, name) in names.enumerated() {
            clientPorts[name] = reservation.ports[index]
            peerPorts[name] = overrides[name] ?? reservation.ports[names.count + index]
            if admin { adminPorts[name] = reservation.ports[2 * names.count + index] }
            let adminKey = adminPorts[name].map { ", admin_port: \($0)" } ?? ""
            yaml +=
                "  - {name: \(name), host: 127.0.0.1, client_port: \(clientPorts[name]!), peer_port: \(peerPorts[name]!)\(adminKey)}\n"
        }
        if !links.isEmpty { yaml += "links: [" + links.map { "[\($0.0), \($0.1)]" }.joined(separator: ", ") + "]\n" }
        if !extra.contains("log_dir") { yaml += "log_dir: logs\n" }
        if !extra.contains("data_dir") { yaml += "data_dir: data\n" }
        yaml += extra + "\n"
        let path = (directory as NSString).appendingPathComponent("herd.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        self.directory = directory
        self.configPath = path
        self.names = names
        self.clientPorts = clientPorts
        self.peerPorts = peerPorts
        self.adminPorts = adminPorts
        self.reservation = reservation
        self.executable = try executable ?? Subprocess.herdExecutable()
    }

    /// Starts `herd serve name` and waits until it reports both endpoints bound.
    @discardableResult
    public func start(_ name: String, environment: [String: String] = [:], timeout: Duration = .seconds(30))
        async throws -> Subprocess
    {
        guard processes[name] == nil else { throw HarnessError("\(name) is already running") }
        let process = try Subprocess(executable, ["serve", name, "--config", configPath], environment: environment)
        let line = "\(name): clients 127.0.0.1:\(clientPorts[name]!)  peers 127.0.0.1:\(peerPorts[name]!)"
        guard await process.waitForOutput(timeout: timeout, until: { $0.contains(line) }) else {
            process.forceKill()
            throw HarnessError(
                "\(name) did not start: \(process.standardOutput.text) \(process.standardError.text.prefix(2000))")
        }
        processes[name] = process
        return process
    }

    public func start(_ names: [String]) async throws {
        for name in names { try await start(name) }
    }

    public func process(_ name: String) throws -> Subprocess {
        guard let process = processes[name] else { throw HarnessError("\(name) is not running") }
        return process
    }

    /// SIGKILL: the process ends at once, mid-write or not.
    public func kill(_ name: String) async {
        guard let process = processes.removeValue(forKey: name) else { return }
        process.forceKill()
    }

    /// SIGTERM, then waits for the exit; returns its status (nil if it did not exit in time, then killed).
    @discardableResult
    public func stop(_ name: String, timeout: Duration = .seconds(20)) async -> Int32? {
        guard let process = processes.removeValue(forKey: name) else { return nil }
        process.terminate()
        let status = await process.waitForExit(timeout: timeout)
        if status == nil { process.forceKill() }
        return status
    }

    /// Kills every server still running and removes the scratch directory.
    public func tearDown() async {
        for process in processes.values { process.forceKill() }
        processes = [:]
        reservation.release()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The log file of `name` (written out by the server every quarter second and when it stops).
    /// The secret the servers make and share when the config names none (on loopback), once one started.
    public nonisolated var machineSecretPath: String {
        PeerAuthentication.machineSecretPath(dataDirectory: (directory as NSString).appendingPathComponent("data"))
    }

    /// The machine secret, once a server has made it.
    public nonisolated func machineSecret() throws -> PeerSecret {
        guard let secret = PeerSecret(text: try String(contentsOfFile: machineSecretPath, encoding: .utf8)) else {
            throw HarnessError("no peer secret in \(machineSecretPath)")
        }
        return secret
    }

    public nonisolated func logPath(_ name: String) -> String {
        (directory as NSString).appendingPathComponent("logs/\(name).log")
    }
}

/// Runs `body` with a ``ProcessHerd``, and kills every server it started afterwards.
public func withProcessHerd<Result: Sendable>(
    names: [String] = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"],
    links: [(String, String)] = [
        ("Alford", "Parker"), ("Alford", "Welsh"), ("Bolden", "Parker"), ("Bolden", "Welsh"), ("Hamilton", "Parker"),
    ],
    extra: String = "peer_links: {redial_initial_ms: 50, redial_max_ms: 250}", executable: URL? = nil,
    peerPorts: [String: Int] = [:], admin: Bool = false, _ body: (ProcessHerd) async throws -> Result
) async throws -> Result {
    let herd = try ProcessHerd(
        names: names, links: links, extra: extra, executable: executable, peerPorts: peerPorts, admin: admin)
    do {
        let result = try await body(herd)
        await herd.tearDown()
        return result
    } catch {
        await herd.tearDown()
        throw error
    }
}
