import Foundation
import HerdKit
import Logging
import Synchronization
import Testing
import Transports

/// Certificates for one test, made fresh in a temporary directory: the herd CA, a second CA nobody trusts,
/// and certificates issued on demand (valid, expired, naming any server).
struct TLSTestPKI {
    let directory: String
    let authority: TLSCertificateAuthority
    let otherAuthority: TLSCertificateAuthority

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("herd-tls-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        authority = try TLSCertificateAuthority.create(commonName: "herd test CA")
        otherAuthority = try TLSCertificateAuthority.create(commonName: "another CA")
        try authority.write(certificateTo: path("ca.pem"), keyTo: path("ca.key"))
        try otherAuthority.write(certificateTo: path("other-ca.pem"), keyTo: path("other-ca.key"))
    }

    func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

    /// The herd CA's certificate file.
    var caFile: String { path("ca.pem") }

    /// Writes a certificate for `name` (DNS:name, IP:127.0.0.1) and its key; returns their paths.
    @discardableResult
    func issue(
        _ name: String, file: String? = nil, byOtherCA: Bool = false,
        validity: TLSCertificateAuthority.Validity = .days(30), host: String = "127.0.0.1"
    ) throws -> (certificate: String, key: String) {
        let issuer = byOtherCA ? otherAuthority : authority
        let issued = try issuer.issueServerCertificate(name: name, host: host, validity: validity)
        let base = file ?? name
        let paths = (certificate: path("\(base).pem"), key: path("\(base).key"))
        try issued.write(certificateTo: paths.certificate, keyTo: paths.key)
        return paths
    }

    /// A certificate that expired yesterday.
    static let expired = TLSCertificateAuthority.Validity(
        notBefore: Date(timeIntervalSinceNow: -10 * 86_400), notAfter: Date(timeIntervalSinceNow: -86_400))

    /// A TLS configuration presenting `name`'s certificate (issued on the spot) and trusting the herd CA.
    func configuration(
        presenting name: String, verifyPeer: Bool = true, byOtherCA: Bool = false,
        validity: TLSCertificateAuthority.Validity = .days(30)
    ) throws -> TLSConfiguration {
        let files = try issue(name, file: "\(name)-\(UUID().uuidString)", byOtherCA: byOtherCA, validity: validity)
        return TLSConfiguration(
            certificateChainFile: files.certificate, privateKeyFile: files.key, caFile: caFile, verifyPeer: verifyPeer)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with fresh certificates and removes them afterwards.
func withTLSTestPKI(_ body: (TLSTestPKI) async throws -> Void) async throws {
    let pki = try TLSTestPKI()
    defer { pki.remove() }
    try await body(pki)
}

/// A logger whose records a test can read, to check what a server reports.
final class LogCapture: Sendable {
    private let records = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(capture: self) }
    }

    var messages: [String] { records.withLock { $0 } }

    func append(_ record: String) { records.withLock { $0.append(record) } }

    /// Waits (at most `timeout`) until a record contains `text`; returns it, or nil.
    func waitFor(_ text: String, timeout: Duration = .seconds(30)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = messages.first(where: { $0.contains(text) }) { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append("\(event.level) \(event.message)")
        }
    }
}

/// An upper-casing line echo server on a TLS listener, for the duration of `body`. Records each accepted
/// connection's peer identity.
func withTLSEchoServer(
    _ configuration: TLSConfiguration, logger: Logger? = nil, limits: ConnectionLimits = ConnectionLimits(),
    _ body: (Endpoint, _ identities: Recorded<PeerIdentity?>) async throws -> Void
) async throws {
    let transport = try TLSTransport(configuration: configuration, logger: logger, endpointName: "clients")
    let listener = try await transport.listen(on: Endpoint(host: "127.0.0.1", port: 0), limits: limits)
    let identities = Recorded<PeerIdentity?>()
    let server = Task {
        try await listener.run { connection in
            identities.append(connection.peerIdentity)
            try? await connection.run { inbound, outbound in
                for try await event in inbound {
                    guard case .lines(let lines) = event else { return }
                    try await outbound.write(
                        lines.map { Array(String(decoding: $0, as: UTF8.self).uppercased().utf8) + [0x0A] })
                }
            }
        }
    }
    defer { server.cancel() }
    try await body(listener.localEndpoint, identities)
    server.cancel()
    _ = await server.result
}

/// Values appended from any task, read by the test.
final class Recorded<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }

    /// Waits (at most `timeout`) until at least `count` values are recorded; returns what is recorded then.
    func waitForCount(_ count: Int, timeout: Duration = .seconds(10)) async -> [Value] {
        let deadline = ContinuousClock.now + timeout
        while all.count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return all
    }
}

/// The real `openssl` command line tool, as a client of last resort: it presents certificates our own
/// transport refuses to (an expired one) and speaks versions it refuses to (TLS 1.1).
enum OpenSSLCLI {
    /// Runs `openssl arguments...`, writes `input` to it, keeps its input open until its output (standard
    /// output and error together) satisfies `until` or `timeout` passes, then closes the input and stops it.
    static func run(
        _ arguments: [String], input: String, until: @escaping @Sendable (String) -> Bool,
        timeout: Duration = .seconds(20)
    ) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let output = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = inputPipe
        let collected = Recorded<UInt8>()
        let finished = Recorded<Bool>()
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        let reader = Thread {
            while true {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                for byte in data { collected.append(byte) }
            }
            finished.append(true)
        }
        reader.start()
        try inputPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        let deadline = ContinuousClock.now + timeout
        func text() -> String { String(decoding: collected.all, as: UTF8.self) }
        while ContinuousClock.now < deadline && process.isRunning && !until(text()) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try? inputPipe.fileHandleForWriting.close()
        let exitDeadline = ContinuousClock.now + .seconds(2)
        while (process.isRunning || finished.all.isEmpty) && ContinuousClock.now < exitDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return text()
    }
}
