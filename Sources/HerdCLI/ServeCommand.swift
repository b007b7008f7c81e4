import ArgumentParser
import HerdKit

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one server of a config, for a herd spread over processes or hosts.")

    @Argument(help: "The server's name in the config.")
    var name: String

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let herdConfig = try config.load(requireFile: true)
        let server = try HerdServer(
            name: name, config: herdConfig, registry: HerdCLI.registry, consoleLogLevel: .warning)
        try await ServerRunner.run([server])
    }
}
