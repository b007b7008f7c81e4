import ArgumentParser
import Foundation
import HerdKit
import Logging
import Transports

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send command lines to a server's client endpoint and print the replies.",
        discussion:
            """
            Example: herd send 127.0.0.1:12000 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503'
            With --tls the server's certificate must chain to the CA (--ca, else certs/ca.pem when it exists, else \
            the system's trusted CAs) and name the host dialled. See Docs/tls.md.
            With --config the lines go over the config's client transport, built with its options: that is how \
            to talk to a herd whose clients use a transport of its own (see Docs/extending.md).
            """)

    @Argument(help: "The client endpoint, HOST:PORT or [IPv6]:PORT.")
    var endpoint: String

    @Argument(help: "Lines to send, pipelined on one connection. With none, lines are read from standard input.")
    var lines: [String] = []

    @Flag(help: "Talk TLS to a client endpoint whose transport is tls.")
    var tls = false

    @Option(help: "With --tls: CA certificate(s), PEM, that the server's certificate must chain to.")
    var ca: String?

    @Option(help: "With --tls: a client certificate chain, PEM, for an endpoint that requires one (with --key).")
    var cert: String?

    @Option(help: "With --tls: the private key of --cert, PEM.")
    var key: String?

    @Option(name: .shortAndLong, help: "Dial with the client transport of this herd config (for custom transports).")
    var config: String?

    func validate() throws {
        if !tls && (ca != nil || cert != nil || key != nil) {
            throw ValidationError("--ca, --cert and --key need --tls")
        }
        if tls && config != nil {
            throw ValidationError("--tls and --config each choose the transport; give one of them")
        }
        if (cert == nil) != (key == nil) {
            throw ValidationError("--cert and --key go together")
        }
    }

    func run() async throws {
        guard let target = Endpoint(endpoint) else {
            throw ValidationError("'\(endpoint)' is not HOST:PORT")
        }
        var toSend = lines
        if toSend.isEmpty {
            while let line = readLine(strippingNewline: true) { toSend.append(line) }
        }
        let client = HerdClient(endpoint: target, transport: try makeTransport(to: target))
        do {
            print(try await client.exchange(toSend), terminator: "")
        } catch {
            let hint =
                tls && ca == nil && "\(error)".contains("certificate verify failed")
                ? " (pass the herd's CA with --ca FILE)" : ""
            throw CommandFailure("cannot talk to \(target): \(error)\(hint)")
        }
    }

    /// TCP, or TLS verifying the server against --ca (else `certs/ca.pem` when present, else the system's CAs).
    private func makeTransport(to target: Endpoint) throws -> any Transport {
        if let config { return try configuredTransport(file: config, to: target) }
        guard tls else { return TCPTransport() }
        let defaultCA = "certs/ca.pem"
        let caFile = ca ?? (FileManager.default.fileExists(atPath: defaultCA) ? defaultCA : nil)
        do {
            return try TLSTransport(
                configuration: .client(caFile: caFile, certificateChainFile: cert, privateKeyFile: key))
        } catch {
            throw CommandFailure("cannot set up TLS: \(error)")
        }
    }

    /// The config's client transport, built by the registry exactly as a server of that herd builds it.
    private func configuredTransport(file: String, to target: Endpoint) throws -> any Transport {
        let herdConfig = try ConfigLoader.load(path: file)
        let component = herdConfig.clientTransport
        guard let factory = HerdCLI.registry.transports[component.name] else {
            throw CommandFailure("\(file): transport.clients: unknown transport '\(component.name)'")
        }
        let server = herdConfig.servers.first { $0.clientEndpoint == target }?.name ?? "client"
        let context = HerdRegistry.Context(
            options: component.options, serverName: server, config: herdConfig, logger: Logger(label: "herd send"))
        return try factory(context, .clients)
    }
}
