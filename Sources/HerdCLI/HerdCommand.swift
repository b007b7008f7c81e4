import ArgumentParser
import Foundation
import HerdKit

/// The root command. Its name is the executable's, so a custom herd's help shows its own name.
struct HerdCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: HerdCLI.executableName,
            abstract: "Run and talk to a proxy server herd.",
            version: Herd.version,
            subcommands: [
                UpCommand.self, ServeCommand.self, SendCommand.self, CheckCommand.self, BenchCommand.self,
                CertsCommand.self, StatusCommand.self, SimulateCommand.self,
            ]
        )
    }
}

/// The config file when given, or the built-in default herd.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The herd's YAML config file.")
    var config: String?

    func load(requireFile: Bool = false) throws -> HerdConfig {
        guard let config else {
            if requireFile { throw ValidationError("--config FILE is required") }
            return HerdConfig.defaultHerd()
        }
        return try ConfigLoader.load(path: config)
    }
}

/// A failure the command reports as one line and a non-zero exit status.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
