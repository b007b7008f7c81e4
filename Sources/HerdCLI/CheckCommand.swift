import ArgumentParser
import HerdKit

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config and print its topology.")

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let herdConfig = try config.load()
        try HerdCLI.registry.validate(herdConfig)
        print("\(herdConfig.source): OK")
        print("transport: clients \(herdConfig.clientTransport.name), peers \(herdConfig.peerTransport.name)")
        print("peer authentication: \(Self.describe(herdConfig))")
        print("provider: \(herdConfig.provider.name)")
        print("pipeline: \(herdConfig.pipeline.map(\.name).joined(separator: " -> "))")
        print("log_dir: \(herdConfig.logDirectory)")
        print("servers:")
        for server in herdConfig.servers {
            let neighbours = herdConfig.neighbours(of: server.name)
            print(
                "  \(server.name)  clients \(server.clientEndpoint)  peers \(server.peerEndpoint)  "
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
