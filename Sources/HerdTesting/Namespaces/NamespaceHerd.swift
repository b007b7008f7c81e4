import Foundation

/// A herd of `herd serve` child processes, one per ``NetworkNamespaces`` namespace: server `names[i]` runs in
/// namespace `i` and binds its address, so every server has a host of its own and the links between them can
/// be cut (``cut(_:_:_:)``). The test process reaches every client endpoint at `host(of:)`, over the bridge.
///
/// The config (``configYAML(servers:links:peerLinks:secretFile:extra:)``) is shared, as in a real deployment;
/// so are its `data_dir` and `log_dir`, in which each server keeps `<name>/` and `<name>.log`, and the peer
/// secret (`peer.secret`, 0600, new for each herd) unless `peerLinks` names one or turns authentication off.
/// Storage is durable unless `extra` says otherwise.
public actor NamespaceHerd {
    public nonisolated let namespaces: NetworkNamespaces
    public nonisolated let directory: String
    public nonisolated let configPath: String
    public nonisolated let names: [String]
    public nonisolated let links: [(String, String)]
    /// Every server's client endpoint is `host(of:):clientPort`, its peer endpoint `host(of:):peerPort`.
    public nonisolated let clientPort: Int
    public nonisolated let peerPort: Int
    private let executable: URL
    private var processes: [String: Subprocess] = [:]

    /// The scratch directory is `<tmp>/herd-namespaces-<namespaces' run>-<random>`; a later run sweeps it if
    /// this one dies before its clean-up.
    static let directoryPrefix = "herd-namespaces-"

    /// The peer link options every herd here gets unless given: quick re-dials.
    public static let defaultPeerLinks: [(String, String)] = [("redial_initial_ms", "50"), ("redial_max_ms", "250")]

    /// - Parameters:
    ///   - namespaces: at least as many as `names`.
    ///   - peerLinks: the keys of `peer_links:` and their YAML values; without `secret_file`, `secret_env` or
    ///     `authentication` among them, a new secret is made and named.
    ///   - extra: more top-level YAML (limits, storage...).
    public init(
        namespaces: NetworkNamespaces, names: [String] = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"],
        links: [(String, String)] = [
            ("Alford", "Parker"), ("Alford", "Welsh"), ("Bolden", "Parker"), ("Bolden", "Welsh"),
            ("Hamilton", "Parker"),
        ],
        clientPort: Int = 7100, peerPort: Int = 7101, peerLinks: [(String, String)] = NamespaceHerd.defaultPeerLinks,
        extra: String = "", executable: URL? = nil
    ) throws {
        guard names.count <= namespaces.names.count else {
            throw HarnessError("\(names.count) servers but only \(namespaces.names.count) namespaces")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(Self.directoryPrefix)\(namespaces.runID)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let servers = names.enumerated().map { index, name in
            (name: name, host: namespaces.addresses[index], clientPort: clientPort, peerPort: peerPort)
        }
        // Servers off loopback must prove a shared secret on their peer links (README: peer_links.secret_file).
        let chosen = ["secret_file", "secret_env", "authentication"]
        let secretFile = peerLinks.contains { chosen.contains($0.0) } ? nil : "peer.secret"
        if let secretFile {
            try Self.writeSecret(to: (directory as NSString).appendingPathComponent(secretFile))
        }
        let yaml = Self.configYAML(
            servers: servers, links: links, peerLinks: peerLinks, secretFile: secretFile, extra: extra)
        let path = (directory as NSString).appendingPathComponent("herd.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        self.namespaces = namespaces
        self.directory = directory
        self.configPath = path
        self.names = names
        self.links = links
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.executable = try executable ?? Subprocess.herdExecutable()
    }

    /// The herd's config file: the servers on their hosts, the links, `peer_links` (with the shared secret's
    /// file, relative to the config, when given), logs and data in the config's directory, then `extra`. Every
    /// key a herd spread over hosts needs is written here, in one place.
    public static func configYAML(
        servers: [(name: String, host: String, clientPort: Int, peerPort: Int)], links: [(String, String)],
        peerLinks: [(String, String)], secretFile: String? = nil, extra: String
    ) -> String {
        let peerLinks = peerLinks + (secretFile.map { [("secret_file", $0)] } ?? [])
        var yaml = "servers:\n"
        for server in servers {
            yaml +=
                "  - {name: \(server.name), host: \(server.host), client_port: \(server.clientPort), peer_port: \(server.peerPort)}\n"
        }
        if !links.isEmpty { yaml += "links: [" + links.map { "[\($0.0), \($0.1)]" }.joined(separator: ", ") + "]\n" }
        if !peerLinks.isEmpty {
            yaml += "peer_links: {" + peerLinks.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}\n"
        }
        yaml += "log_dir: logs\ndata_dir: data\n"
        if !extra.isEmpty { yaml += extra + "\n" }
        return yaml
    }

    /// Writes a new random peer secret (64 hex digits) to `path`, readable by its owner only.
    public static func writeSecret(to path: String) throws {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
            .joined()
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw HarnessError("cannot write the peer secret to \(path)") }
    }

    /// The namespace index of server `name`.
    public nonisolated func index(of name: String) -> Int {
        guard let index = names.firstIndex(of: name) else { preconditionFailure("no server \(name)") }
        return index
    }

    /// The address server `name` binds and the test process connects to.
    public nonisolated func host(of name: String) -> String {
        namespaces.addresses[index(of: name)]
    }

    /// Starts `herd serve name` in its namespace and waits until it reports both endpoints bound.
    @discardableResult
    public func start(_ name: String, timeout: Duration = .seconds(30)) async throws -> Subprocess {
        guard processes[name] == nil else { throw HarnessError("\(name) is already running") }
        let process = try Subprocess(
            executable, ["serve", name, "--config", configPath], launcher: namespaces.launcher(index(of: name)),
            lifetimeSeconds: 300)
        let host = host(of: name)
        let line = "\(name): clients \(host):\(clientPort)  peers \(host):\(peerPort)"
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

    public func isRunning(_ name: String) -> Bool { processes[name] != nil }

    /// SIGKILL: the process ends at once, mid-write or not.
    public func kill(_ name: String) {
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

    /// Cuts the link between servers `a` and `b` (see ``NetworkNamespaces/cut(_:_:_:)``).
    public func cut(_ a: String, _ b: String, _ how: NetworkNamespaces.Cut = .drop) async throws {
        try await namespaces.cut(index(of: a), index(of: b), how)
    }

    public func heal(_ a: String, _ b: String) async throws {
        try await namespaces.heal(index(of: a), index(of: b))
    }

    /// The log file of `name` (written out by the server every quarter second and when it stops).
    public nonisolated func logPath(_ name: String) -> String {
        (directory as NSString).appendingPathComponent("logs/\(name).log")
    }

    /// Copies the config, the logs and the data of every server to `destination` (for a failure to be read
    /// after the scratch directory is gone); returns the destination.
    @discardableResult
    public nonisolated func preserve(to destination: String) throws -> String {
        let manager = FileManager.default
        try? manager.removeItem(atPath: destination)
        try manager.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for item in ["herd.yaml", "logs", "data"] {
            let source = (directory as NSString).appendingPathComponent(item)
            if manager.fileExists(atPath: source) {
                try manager.copyItem(atPath: source, toPath: (destination as NSString).appendingPathComponent(item))
            }
        }
        return destination
    }

    /// Kills every server still running and removes the scratch directory (the namespaces stay: their owner
    /// tears them down).
    public func tearDown() {
        for process in processes.values { process.forceKill() }
        processes = [:]
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a herd in namespaces of its own (one per server, see ``NetworkNamespaces``), none of it
/// started; afterwards kills every server and deletes the namespaces, also when `body` throws.
public func withNamespaceHerd<Result: Sendable>(
    names: [String] = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"],
    links: [(String, String)] = [
        ("Alford", "Parker"), ("Alford", "Welsh"), ("Bolden", "Parker"), ("Bolden", "Welsh"), ("Hamilton", "Parker"),
    ],
    peerLinks: [(String, String)] = NamespaceHerd.defaultPeerLinks, extra: String = "", executable: URL? = nil,
    isolation: isolated (any Actor)? = #isolation, _ body: (NamespaceHerd) async throws -> Result
) async throws -> Result {
    try await withNetworkNamespaces(count: names.count) { namespaces in
        let herd = try NamespaceHerd(
            namespaces: namespaces, names: names, links: links, peerLinks: peerLinks, extra: extra,
            executable: executable)
        do {
            let result = try await body(herd)
            await herd.tearDown()
            return result
        } catch {
            await herd.tearDown()
            throw error
        }
    }
}
