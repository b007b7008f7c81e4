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
}
