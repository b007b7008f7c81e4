import Foundation
import HerdKit
import HerdTesting
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

/// Runs `openssl arguments...` to completion (making a key or a certificate) and returns its output.
@discardableResult
func openssl(_ arguments: [String]) async throws -> String {
    try await OpenSSLClient.run(arguments, input: "", until: { _ in false }, timeout: .seconds(30))
}

/// The real `openssl s_server` listening on a free loopback port, to see what a herd dialler agrees to. Its
/// standard input stays open (at end of input s_server would end the connection it is serving).
final class OpenSSLServer {
    let port: Int
    private let process: Process
    private let input: Pipe
    private let output: PipeOutput

    /// Starts `openssl s_server -accept 127.0.0.1:0 arguments...` and waits until it listens.
    init(_ arguments: [String]) async throws {
        let process = Process()
        let input = Pipe()
        let outputPipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:0"] + arguments
        process.standardInput = input
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        try process.run()
        let output = PipeOutput(reading: outputPipe.fileHandleForReading)
        // It prints `ACCEPT 127.0.0.1:PORT` once listening.
        let prefix = "ACCEPT 127.0.0.1:"
        var port: Int?
        let deadline = ContinuousClock.now + .seconds(20)
        while port == nil && process.isRunning && ContinuousClock.now < deadline {
            port =
                output.text.split(separator: "\n").lazy.compactMap { line in
                    line.hasPrefix(prefix) ? Int(line.dropFirst(prefix.count)) : nil
                }.first
            if port == nil { try? await Task.sleep(for: .milliseconds(20)) }
        }
        guard let port else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw HarnessError("openssl s_server did not start: \(output.text)")
        }
        self.process = process
        self.input = input
        self.output = output
        self.port = port
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    /// What it has printed so far.
    var text: String { output.text }

    /// Kills it: SIGKILL, since a test process may hand its children SIGTERM blocked.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
    }

    deinit { stop() }
}
