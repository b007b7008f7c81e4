import ArgumentParser
import Foundation
import HerdKit
import Providers
import Transports

/// The `herd` command line as a library, so that a herd with parts of its own is a few lines of `main.swift`:
///
/// ```swift
/// import HerdCLI
/// var registry = HerdRegistry.standard
/// registry.registerStage("audit") { context in AuditStage(options: context.options) }
/// await HerdCLI.main(registry: registry)
/// ```
///
/// Every command (`up`, `serve`, `send`, `check`, `certs`, `bench`) then works with the custom parts by name.
public enum HerdCLI {
    /// The exit status of every config error (EX_CONFIG of sysexits.h), so a service manager can tell a
    /// config to fix from a crash and stop restarting (`RestartPreventExitStatus=78`).
    public static let configErrorStatus: Int32 = 78

    /// Parses `arguments` (the process's own when nil), runs the command with the parts `registry` names,
    /// and exits the process with the command's status: 78 for a config error.
    public static func main(registry: HerdRegistry = .standard, arguments: [String]? = nil) async {
        await $registry.withValue(registry) {
            do {
                var command = try HerdCommand.parseAsRoot(arguments)
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch let error as ConfigError {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                exit(configErrorStatus)
            } catch {
                HerdCommand.exit(withError: error)
            }
        }
    }

    /// The registry the running command builds servers from; set by ``main(registry:arguments:)``.
    @TaskLocal static var registry: HerdRegistry = .standard

    /// The name the process was started under, for help and usage lines.
    static var executableName: String {
        CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "herd"
    }
}

extension HerdRegistry {
    /// Everything the `herd` executable can build: the core stages, the `tcp` and `tls` transports, and the
    /// `fixture` and `google` providers. Start a custom herd from it and register your own parts on top.
    public static var standard: HerdRegistry {
        var registry = HerdRegistry.core
        TCPTransport.register(in: &registry)
        TLSTransport.register(in: &registry)
        FixtureProvider.register(in: &registry)
        GooglePlacesProvider.register(in: &registry)
        return registry
    }
}
