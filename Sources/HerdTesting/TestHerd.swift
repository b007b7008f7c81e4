import Foundation
import HerdCLI
import HerdKit
import Transports

/// A herd run in the test's own process on free loopback ports: the reference herd of PROTOCOL.md
/// section 6 unless given another config, over TCP or TLS, with fast re-dials, its logs, journals and
/// certificates in a scratch directory. Servers can be started, stopped and restarted (on the same ports),
/// and a test talks to them over real sockets.
///
/// Waits are on conditions, never on fixed sleeps: ``waitForLinks(timeout:)`` until every link a running
/// server should have is up, ``waitUntilQuiet(timeout:)`` until every neighbour holds everything (after that,
/// nothing more arrives anywhere without new input), ``log(_:)`` after the server wrote its log out.
public actor TestHerd {
    /// Which endpoints talk TLS (with certificates from one CA, as `herd certs` makes them).
    public enum Security: Sendable {
        case tcp
        /// TLS on the endpoints named, with these options for the `tls` transport (a YAML flow mapping,
        /// `{handshake_timeout_seconds: 300}`; the certificates are found where `herd certs` puts them).
        case tls(clients: Bool, peers: Bool, options: String = "{}")
    }

    private struct Running {
        let server: HerdServer
        let task: Task<Void, any Error>
    }

    /// The scratch directory: `herd.yaml`, `logs/`, `data/`, and `certs/` for TLS.
    public nonisolated let directory: String
    public nonisolated let config: HerdConfig
    /// The CA every server trusts, for TLS herds.
    public nonisolated let authority: TLSCertificateAuthority?
    /// How this harness dials client endpoints.
    public nonisolated let clientTransport: any Transport
    private nonisolated let usesTLSForClients: Bool
    private let clock: any WallClock
    private let registry: HerdRegistry
    /// Where servers find their neighbours' peer endpoints; a test may point one at a stand-in.
    public nonisolated let peerDirectory: PeerDirectory
    private var running: [String: Running] = [:]
    private var bound: [String: BoundEndpoints] = [:]

    /// - Parameters:
    ///   - yaml: the herd's config; the reference herd when nil. Ports of 0 are picked at start.
    ///   - security: plain TCP, or TLS for clients, peers or both.
    ///   - registry: the parts servers are built from (a user's own stage or provider, say).
    ///   - configure: changes to the loaded config (limits, pipeline, ...).
    ///   - clientTransport: how the harness dials client endpoints, for a transport of your own (TCP, or TLS
    ///     trusting the herd's CA, by default).
    ///   - clock: the wall clock the servers read receive times from (a `FixedClock` makes AT lines exact).
    public init(
        yaml: String? = nil, security: Security = .tcp, registry: HerdRegistry = .standard,
        configure: @Sendable (inout HerdConfig) -> Void = { _ in }, clientTransport: (any Transport)? = nil,
        clock: any WallClock = SystemClock()
    ) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herd-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var text = yaml ?? Self.referenceHerd
        var clientsTLS = false
        var authority: TLSCertificateAuthority?
        if case .tls(let clients, let peers, let options) = security {
            clientsTLS = clients
            let tls = "{name: tls, options: \(options)}"
            text += "\ntransport: {clients: \(clients ? tls : "tcp"), peers: \(peers ? tls : "tcp")}\n"
            let certs = (directory as NSString).appendingPathComponent("certs")
            try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
            let ca = try TLSCertificateAuthority.create(commonName: "herd test CA")
            try ca.write(certificateTo: certs + "/ca.pem", keyTo: certs + "/ca.key")
            for name in try Self.serverNames(in: text, directory: directory) {
                try ca.issueServerCertificate(name: name, host: "127.0.0.1")
                    .write(certificateTo: certs + "/\(name).pem", keyTo: certs + "/\(name).key")
            }
            authority = ca
        }
        let path = (directory as NSString).appendingPathComponent("herd.yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var config = try ConfigLoader.load(path: path)
        if case .machineSecret = config.peerAuthentication {
            // One process: the herd's secret stays in it, and stand-ins are handed it.
            config.peerAuthentication = .secret(PeerKeys(current: .random()))
        }
        configure(&config)
        self.directory = directory
        self.config = config
        self.authority = authority
        self.registry = registry
        self.usesTLSForClients = clientsTLS
        self.peerDirectory = PeerDirectory(config: config)
        self.clock = clock
        self.clientTransport =
            try clientTransport
            ?? (clientsTLS
                ? TLSTransport(
                    configuration: .client(caFile: (directory as NSString).appendingPathComponent("certs/ca.pem")))
                : TCPTransport())
    }

    /// The reference herd on free ports with fast re-dials.
    public static let referenceHerd = """
        servers:
          - {name: Alford, client_port: 0, peer_port: 0}
          - {name: Bolden, client_port: 0, peer_port: 0}
          - {name: Hamilton, client_port: 0, peer_port: 0}
          - {name: Parker, client_port: 0, peer_port: 0}
          - {name: Welsh, client_port: 0, peer_port: 0}
        links: [[Alford, Parker], [Alford, Welsh], [Bolden, Parker], [Bolden, Welsh], [Hamilton, Parker]]
        peer_links: {redial_initial_ms: 20, redial_max_ms: 200}
        log_dir: logs
        data_dir: data
        """

    private static func serverNames(in yaml: String, directory: String) throws -> [String] {
        let probe = (directory as NSString).appendingPathComponent("names.yaml")
        try yaml.write(toFile: probe, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        return try ConfigLoader.load(path: probe).servers.map(\.name)
    }

    /// The secret the herd's peer links prove, if they prove one.
    public nonisolated var peerSecret: PeerSecret? {
        if case .secret(let keys) = config.peerAuthentication { return keys.current }
        return nil
    }

    /// Every server of the config, in config order.
    public nonisolated var names: [String] { config.servers.map(\.name) }

    // MARK: Running servers

    /// Starts `name`, on the ports it had before if it ran earlier (a restart), else on free ports.
    public func start(_ name: String) async throws {
        guard running[name] == nil else { throw HarnessError("\(name) is already running") }
        var serverConfig = config
        if let previous = bound[name], let index = serverConfig.servers.firstIndex(where: { $0.name == name }) {
            serverConfig.servers[index].clientPort = previous.clients.port
            serverConfig.servers[index].peerPort = previous.peers.port
        }
        // Building a server loads its journal and place file: off the actor, so servers build at once.
        let server = try await Self.makeServer(name, serverConfig, registry, peerDirectory, clock)
        guard running[name] == nil else { throw HarnessError("\(name) was started twice") }
        let task = Task { try await server.run() }
        running[name] = Running(server: server, task: task)
        do {
            let endpoints = try await server.waitUntilBound()
            if let previous = bound[name], previous != endpoints {
                throw HarnessError("\(name) restarted on \(endpoints), expected \(previous)")
            }
            bound[name] = endpoints
        } catch {
            running[name] = nil
            task.cancel()
            _ = await task.result
            throw error
        }
    }

    private nonisolated static func makeServer(
        _ name: String, _ config: HerdConfig, _ registry: HerdRegistry, _ directory: PeerDirectory,
        _ clock: any WallClock
    ) async throws -> HerdServer {
        try HerdServer(name: name, config: config, registry: registry, directory: directory, clock: clock)
    }

    /// Starts several servers at once.
    public func start(_ names: [String]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names { group.addTask { try await self.start(name) } }
            try await group.waitForAll()
        }
    }

    /// Stops `name` (gracefully, as SIGTERM would) and waits until it has closed every socket.
    public func stop(_ name: String) async {
        guard let stopped = running.removeValue(forKey: name) else { return }
        stopped.task.cancel()
        _ = await stopped.task.result
    }

    /// Stops every running server, all at once.
    public func stopAll() async {
        let stopping = running
        running = [:]
        for entry in stopping.values { entry.task.cancel() }
        for entry in stopping.values { _ = await entry.task.result }
    }

    public func isRunning(_ name: String) -> Bool { running[name] != nil }

    /// The running server `name`.
    public func server(_ name: String) throws -> HerdServer {
        guard let server = running[name]?.server else { throw HarnessError("\(name) is not running") }
        return server
    }

    /// The endpoints `name` is (or was last) bound to.
    public func endpoints(_ name: String) throws -> BoundEndpoints {
        guard let endpoints = bound[name] else { throw HarnessError("\(name) never started") }
        return endpoints
    }

    /// The client port `name` is (or was last) bound to.
    public func clientPort(_ name: String) throws -> Int { try endpoints(name).clients.port }

    /// The neighbours of `name` that are running now.
    public func runningNeighbours(of name: String) -> Set<String> {
        Set(config.neighbours(of: name)).intersection(running.keys)
    }

    // MARK: Waiting for the herd

    /// Waits until every running server's link to each running neighbour has finished its hello (the
    /// neighbour answered it, so it took the link in), and no server has a link to a stopped one.
    public func waitForLinks(timeout: Duration = .seconds(20)) async throws {
        var mismatches: [String] = []
        do {
            try await eventually("peer links to settle", timeout: timeout) {
                mismatches = await linkMismatches()
                return mismatches.isEmpty
            }
        } catch {
            throw HarnessError("peer links did not settle within \(timeout): " + mismatches.joined(separator: "; "))
        }
    }

    private func linkMismatches() async -> [String] {
        var mismatches: [String] = []
        for (name, entry) in running.sorted(by: { $0.key < $1.key }) {
            let up = Set(((try? await entry.server.linkStates()) ?? []).filter(\.isUp).map(\.neighbour))
            let expected = runningNeighbours(of: name)
            if up != expected { mismatches.append("\(name) has \(up.sorted()), expected \(expected.sorted())") }
        }
        return mismatches
    }

    /// Waits until the herd is quiet: every link settled and every neighbour has acknowledged everything
    /// it was sent and is owed. After this nothing moves between servers until something new is reported,
    /// so a test can check that an update did *not* reach a server without sleeping first.
    public func waitUntilQuiet(timeout: Duration = .seconds(20)) async throws {
        try await waitForLinks(timeout: timeout)
        var behind: [String] = []
        do {
            try await eventually("every neighbour to catch up", timeout: timeout) {
                behind = await lagging()
                return behind.isEmpty
            }
        } catch {
            throw HarnessError("the herd did not go quiet within \(timeout): " + behind.joined(separator: "; "))
        }
    }

    private func lagging() async -> [String] {
        var behind: [String] = []
        for (name, entry) in running.sorted(by: { $0.key < $1.key }) {
            for link in (try? await entry.server.linkStates()) ?? [] where running[link.neighbour] != nil {
                if !link.isCaughtUp {
                    behind.append("\(name) -> \(link.neighbour) acknowledged \(link.acknowledged) of \(link.latest)")
                }
            }
        }
        return behind
    }

    // MARK: TLS

    /// The CA certificate every server of a TLS herd trusts.
    public nonisolated var caFile: String { (directory as NSString).appendingPathComponent("certs/ca.pem") }

    /// Issues a certificate for `name` (from the herd's CA, or from a fresh CA nobody trusts) and returns a
    /// TLS configuration presenting it and trusting the herd's CA: how a test plays a peer or client.
    public nonisolated func identity(_ name: String, fromAnotherCA: Bool = false) throws -> TLSConfiguration {
        guard let authority else { throw HarnessError("not a TLS herd") }
        let issuer = fromAnotherCA ? try TLSCertificateAuthority.create(commonName: "not the herd CA") : authority
        let base = (directory as NSString).appendingPathComponent("\(name)-\(UUID().uuidString)")
        try issuer.issueServerCertificate(name: name, host: "127.0.0.1")
            .write(certificateTo: base + ".pem", keyTo: base + ".key")
        return TLSConfiguration(
            certificateChainFile: base + ".pem", privateKeyFile: base + ".key", caFile: caFile, verifyPeer: true)
    }

    // MARK: Logs

    /// The log file of `name`.
    public nonisolated func logPath(_ name: String) -> String {
        ConfigPaths.resolve("\(name).log", against: config.logDirectory)
    }

    /// Everything `name` has logged so far (its log is written out first, if it runs).
    public func log(_ name: String) async throws -> String {
        try await running[name]?.server.flushLog()
        return LogFiles.text(atPath: logPath(name))
    }

    /// Waits for a line of `name`'s log containing every one of `words`, and returns it.
    @discardableResult
    public func waitForLogLine(_ name: String, containing words: [String], timeout: Duration = .seconds(20))
        async throws -> String
    {
        var found: String?
        try await eventually("\(name) to log \(words)", timeout: timeout, poll: .milliseconds(20)) {
            try await running[name]?.server.flushLog()
            found = LogFiles.line(atPath: logPath(name), containing: words)
            return found != nil
        }
        return found!
    }
}

/// Runs `body` with a test herd whose servers `names` (default: all) are running and linked; stops every
/// server and removes the scratch directory afterwards, whether `body` returns or throws.
public func withTestHerd(
    yaml: String? = nil, starting names: [String]? = nil, security: TestHerd.Security = .tcp,
    registry: HerdRegistry = .standard, configure: @Sendable (inout HerdConfig) -> Void = { _ in },
    clientTransport: (any Transport)? = nil, clock: any WallClock = SystemClock(),
    _ body: (TestHerd) async throws -> Void
) async throws {
    let herd = try TestHerd(
        yaml: yaml, security: security, registry: registry, configure: configure, clientTransport: clientTransport,
        clock: clock)
    do {
        try await herd.start(names ?? herd.names)
        try await herd.waitForLinks()
        try await body(herd)
    } catch {
        await herd.stopAll()
        try? FileManager.default.removeItem(atPath: herd.directory)
        throw error
    }
    await herd.stopAll()
    try? FileManager.default.removeItem(atPath: herd.directory)
}
