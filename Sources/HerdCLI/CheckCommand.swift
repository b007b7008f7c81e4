import ArgumentParser
import HerdKit
import Logging

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config, build every part of every server, and print the topology.",
        discussion: """
            Every transport, provider and stage of every server is built as `herd serve` builds it, so a \
            certificate that does not load, an unset API key variable or an unknown option of any part is \
            reported here with its file and key. No store, log file or socket is opened. Exit status 78 on \
            any config error.
            """)

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let herdConfig = try config.load()
        let registry = HerdCLI.registry
        try registry.validate(herdConfig)
        // What `herd serve` builds for each server, short of its store, log and sockets.
        let quiet = Logger(label: "herd check") { _ in SwiftLogNoOpLogHandler() }
        for server in herdConfig.servers {
            func context(_ options: ConfigOptions) -> HerdRegistry.Context {
                HerdRegistry.Context(options: options, serverName: server.name, config: herdConfig, logger: quiet)
            }
            _ = try registry.makeTransport(
                herdConfig.clientTransport, kind: .clients, context: context(herdConfig.clientTransport.options))
            _ = try registry.makeTransport(
                herdConfig.peerTransport, kind: .peers, context: context(herdConfig.peerTransport.options))
            _ = try registry.makeProvider(context: context(herdConfig.provider.options))
            for stage in herdConfig.pipeline { _ = try registry.makeStage(stage, context: context(stage.options)) }
        }
        print("\(herdConfig.source): OK")
        print("transport: clients \(herdConfig.clientTransport.name), peers \(herdConfig.peerTransport.name)")
        print("peer authentication: \(Self.describe(herdConfig))")
        print("provider: \(herdConfig.provider.name)")
        print("pipeline: \(herdConfig.pipeline.map(\.name).joined(separator: " -> "))")
        print("log_dir: \(herdConfig.logDirectory)")
        print("servers:")
        for server in herdConfig.servers {
            let neighbours = herdConfig.neighbours(of: server.name)
            let admin = herdConfig.adminEndpoint(of: server).map { "  admin \($0)" } ?? ""
            print(
                "  \(server.name)  clients \(server.clientEndpoint)  peers \(server.peerEndpoint)\(admin)  "
                    + "links: \(neighbours.isEmpty ? "(none)" : neighbours.joined(separator: ", "))")
        }
    }

    private static func describe(_ config: HerdConfig) -> String {
        switch config.peerAuthentication {
        case .secret(let keys): keys.previous == nil ? "shared secret" : "shared secret, and the previous one"
        case .machineSecret:
            "shared secret made by the servers of this machine in "
                + PeerAuthentication.machineSecretPath(dataDirectory: config.dataDirectory)
        case .transport: config.links.isEmpty ? "none needed (no links)" : "certificates (\(config.peerTransport.name))"
        case .none: "NONE: anyone who reaches a peer port can send updates"
        }
    }
}
