import ArgumentParser
import HerdKit
import Providers
import Transports

@main
struct HerdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herd",
        abstract: "Run and talk to a proxy server herd.",
        subcommands: [
            UpCommand.self, ServeCommand.self, SendCommand.self, CheckCommand.self, BenchCommand.self,
            CertsCommand.self,
        ]
    )
}

extension HerdRegistry {
    /// Everything this executable can build: the core stages, `tcp`, `tls`, and the `fixture` and `google` providers.
    static var standard: HerdRegistry {
        var registry = HerdRegistry.core
        TCPTransport.register(in: &registry)
        TLSTransport.register(in: &registry)
        FixtureProvider.register(in: &registry)
        GooglePlacesProvider.register(in: &registry)
        return registry
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
