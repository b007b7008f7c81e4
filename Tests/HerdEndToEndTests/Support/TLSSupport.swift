import Foundation
import HerdKit
import Providers
import Synchronization
import Testing
import Transports

/// The default herd (PROTOCOL.md section 6) with `transport: {clients: tls, peers: tls}`, run in this process
/// on free loopback ports, with certificates made the way `herd certs` makes them in `<dir>/certs` (where the
/// `tls` transport looks by default), so the config is exactly the "two steps" one.
actor TLSTestHerd {
    struct HarnessError: Error, CustomStringConvertible {
        let description: String
    }

    private struct Running {
        let server: HerdServer
        let task: Task<Void, any Error>
    }

    static let names = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]

    /// The scratch directory: `herd.yaml`'s directory, with `certs/` and `logs/` in it.
    nonisolated let directory: String
    nonisolated let config: HerdConfig
    nonisolated let authority: TLSCertificateAuthority
    nonisolated let peerDirectory: PeerDirectory
    private let registry: HerdRegistry
    private let clientTransport: TLSTransport
    private var running: [String: Running] = [:]
    private var bound: [String: BoundEndpoints] = [:]

    init() throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("herd-e2e-tls-\(UUID().uuidString)").path
        let certs = (directory as NSString).appendingPathComponent("certs")
        try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
        authority = try TLSCertificateAuthority.create(commonName: "herd test CA")
        try authority.write(certificateTo: certs + "/ca.pem", keyTo: certs + "/ca.key")
        for name in Self.names {
            try authority.issueServerCertificate(name: name, host: "127.0.0.1")
                .write(certificateTo: certs + "/\(name).pem", keyTo: certs + "/\(name).key")
        }
        var yaml = "servers:\n"
        for name in Self.names { yaml += "  - {name: \(name), host: 127.0.0.1, client_port: 0, peer_port: 0}\n" }
        yaml += """
            links: [[Alford, Parker], [Alford, Welsh], [Bolden, Parker], [Bolden, Welsh], [Hamilton, Parker]]
            transport: {clients: tls, peers: tls}
            log_dir: logs
            peer_links: {redial_initial_ms: 20, redial_max_ms: 200}

            """
        let path = (directory as NSString).appendingPathComponent("herd.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        config = try ConfigLoader.load(path: path)
        var registry = HerdRegistry.core
        TCPTransport.register(in: &registry)
        TLSTransport.register(in: &registry)
        FixtureProvider.register(in: &registry)
        self.registry = registry
        peerDirectory = PeerDirectory(config: config)
        clientTransport = try TLSTransport(configuration: .client(caFile: certs + "/ca.pem"))
    }

    /// The CA every server trusts.
    nonisolated var caFile: String { (directory as NSString).appendingPathComponent("certs/ca.pem") }

    nonisolated func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

    /// Starts `name`, on the ports it had before if it ran earlier (a restart), else on free ports.
    func start(_ name: String) async throws {
        guard running[name] == nil else { throw HarnessError(description: "\(name) is already running") }
        var serverConfig = config
        if let previous = bound[name], let index = serverConfig.servers.firstIndex(where: { $0.name == name }) {
            serverConfig.servers[index].clientPort = previous.clients.port
            serverConfig.servers[index].peerPort = previous.peers.port
        }
        let server = try HerdServer(name: name, config: serverConfig, registry: registry, directory: peerDirectory)
        let task = Task { try await server.run() }
        running[name] = Running(server: server, task: task)
        do {
            let endpoints = try await server.waitUntilBound()
            if let previous = bound[name], previous != endpoints {
                throw HarnessError(description: "\(name) restarted on \(endpoints), expected \(previous)")
            }
            bound[name] = endpoints
        } catch {
            running[name] = nil
            task.cancel()
            _ = await task.result
            throw error
        }
    }

    /// Stops `name` and waits until it has closed every socket.
    func stop(_ name: String) async {
        guard let stopped = running.removeValue(forKey: name) else { return }
        stopped.task.cancel()
        _ = await stopped.task.result
    }

    func stopAll() async {
        for name in Self.names { await stop(name) }
    }

    func endpoints(_ name: String) throws -> BoundEndpoints {
        guard let endpoints = bound[name] else { throw HarnessError(description: "\(name) never started") }
        return endpoints
    }

    func connectedNeighbours(of name: String) -> [String] {
        running[name]?.server.connectedNeighbours ?? []
    }

    /// Waits (at most `timeout`) until every running server has a link to exactly its running neighbours.
    func waitForLinks(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            var mismatches: [String] = []
            for (name, entry) in running.sorted(by: { $0.key < $1.key }) {
                let connected = Set(entry.server.connectedNeighbours)
                let expected = Set(config.neighbours(of: name)).intersection(running.keys)
                if connected != expected {
                    mismatches.append("\(name) has \(connected.sorted()), expected \(expected.sorted())")
                }
            }
            if mismatches.isEmpty { return }
            if ContinuousClock.now >= deadline {
                throw HarnessError(description: "peer links not settled: " + mismatches.joined(separator: "; "))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: Talking TLS to client endpoints

    /// Sends `lines` pipelined over TLS to `server`'s client endpoint, half-closes, and returns every reply.
    func send(_ lines: [String], to server: String) async throws -> String {
        try await HerdClient(endpoint: try endpoints(server).clients, transport: clientTransport).exchange(lines)
    }

    /// Reports `client` at `server` and checks the AT reply; returns the AT line (without LF).
    @discardableResult
    func report(
        _ client: String, at server: String, time: String = Wire.time, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await send([Wire.iamat(client, time: time)], to: server)
        return try Wire.expectATReply(reply, server: server, client: client, time: time, sourceLocation: sourceLocation)
    }

    func whatsat(_ client: String, at server: String, radius: String = "10", bound: Int = 5) async throws -> String {
        try await send(["WHATSAT \(client) \(radius) \(bound)"], to: server)
    }

    /// Asks `server` until its WHATSAT reply for `client` starts with `atLine`; returns that reply.
    @discardableResult
    func awaitLocation(
        of client: String, atLine: String, at server: String, timeout: Duration = .seconds(20),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var reply = ""
        while ContinuousClock.now < deadline {
            reply = try await whatsat(client, at: server)
            if reply.hasPrefix(atLine + "\n") { return reply }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record(
            "\(server) never answered WHATSAT \(client) with \(atLine); last: \(reply.prefix(200).debugDescription)",
            sourceLocation: sourceLocation)
        throw HarnessError(description: "\(client) did not reach \(server)")
    }

    /// Checks that `server` does not know `client`.
    func expectUnknown(_ client: String, at server: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let reply = try await whatsat(client, at: server)
        #expect(reply == "? WHATSAT \(client) 10 5\n", "\(server) knows \(client)", sourceLocation: sourceLocation)
    }

    // MARK: Logs

    nonisolated func logPath(_ name: String) -> String { path("logs/\(name).log") }

    nonisolated func log(_ name: String) -> String { LogFiles.text(atPath: logPath(name)) }

    /// Waits (at most `timeout`) for a line of `name`'s log containing every one of `words`; returns it, or nil.
    nonisolated func waitForLogLine(_ name: String, containing words: [String], timeout: Duration = .seconds(30))
        async -> String?
    {
        await LogFiles.waitForLine(atPath: logPath(name), containing: words, timeout: timeout)
    }

    /// Issues a certificate for `name` (from the herd CA, or from a fresh CA nobody trusts) into the scratch
    /// directory and returns a TLS configuration presenting it and trusting the herd CA.
    nonisolated func identity(_ name: String, fromAnotherCA: Bool = false) throws -> TLSConfiguration {
        let issuer = fromAnotherCA ? try TLSCertificateAuthority.create(commonName: "not the herd CA") : authority
        let base = path("\(name)-\(UUID().uuidString)")
        try issuer.issueServerCertificate(name: name, host: "127.0.0.1")
            .write(certificateTo: base + ".pem", keyTo: base + ".key")
        return TLSConfiguration(
            certificateChainFile: base + ".pem", privateKeyFile: base + ".key", caFile: caFile, verifyPeer: true)
    }
}

/// Runs `body` with the TLS herd, servers `names` (default: all five) running and linked; stops every server
/// and removes the scratch directory afterwards, whether `body` returns or throws.
func withTLSTestHerd(starting names: [String]? = nil, _ body: (TLSTestHerd) async throws -> Void) async throws {
    let herd = try TLSTestHerd()
    do {
        for name in names ?? TLSTestHerd.names { try await herd.start(name) }
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

/// The real `openssl` command line tool as a client (`s_client`), run with a time limit and always stopped.
enum OpenSSLClient {
    /// Bytes a child writes, gathered by a reader thread.
    private final class Output: Sendable {
        private let state = Mutex<(bytes: [UInt8], finished: Bool)>(([], false))
        func append(_ data: Data) { state.withLock { $0.bytes.append(contentsOf: data) } }
        func finish() { state.withLock { $0.finished = true } }
        var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
        var isFinished: Bool { state.withLock { $0.finished } }
    }

    /// Runs `openssl arguments...`, writes `input`, keeps standard input open until the output (standard output
    /// and error together) satisfies `until` or `timeout` passes, then closes it and stops the process.
    static func run(
        _ arguments: [String], input: String, until: (String) -> Bool, timeout: Duration = .seconds(20)
    ) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let outputPipe = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        process.standardInput = inputPipe
        let output = Output()
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        let reader = Thread {
            while true {
                let data = outputPipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                output.append(data)
            }
            output.finish()
        }
        reader.start()
        try inputPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && process.isRunning && !until(output.text) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try? inputPipe.fileHandleForWriting.close()
        // Then wait for it to exit and for its last output to be read.
        let exitDeadline = ContinuousClock.now + .seconds(2)
        while (process.isRunning || !output.isFinished) && ContinuousClock.now < exitDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return output.text
    }
}

/// Values appended from any task, read by the test.
final class TLSRecorded<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}
