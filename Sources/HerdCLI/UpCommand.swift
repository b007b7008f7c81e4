import ArgumentParser
import HerdKit

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run every server of a config in this process.",
        discussion: """
            With no --config, runs the default herd: Alford, Bolden, Hamilton, Parker and Welsh on 127.0.0.1 \
            (client ports 12000-12004, peer ports 12100-12104) with the offline fixture provider.
            """)

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let herdConfig = try config.load()
        let herd = try Herd(config: herdConfig, registry: HerdCLI.registry, consoleLogLevel: .warning)
        try await ServerRunner.run(herd.servers)
    }
}
