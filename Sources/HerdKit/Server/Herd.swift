import Logging

/// Several servers of one config run in one process, sharing a peer directory so ports picked at bind
/// time (port 0) are found by their neighbours. `herd up` and the end-to-end tests use it.
public struct Herd: Sendable {
    /// This build's version, as `herd --version` prints it.
    public static let version = "0.14.0"
    public let servers: [HerdServer]
    public let directory: PeerDirectory

    /// Builds `names` (default: every server of the config).
    public init(
        config: HerdConfig, registry: HerdRegistry, names: [String]? = nil, consoleLogLevel: Logger.Level? = nil
    ) throws {
        try registry.validate(config)
        var config = config
        let everyServer = Set(names ?? config.servers.map(\.name)) == Set(config.servers.map(\.name))
        if everyServer, case .machineSecret = config.peerAuthentication {
            // The whole herd is in this process: its secret need not be shared through a file.
            config.peerAuthentication = .secret(PeerKeys(current: .random()))
        }
        let directory = PeerDirectory(config: config)
        self.directory = directory
        self.servers = try (names ?? config.servers.map(\.name)).map {
            try HerdServer(
                name: $0, config: config, registry: registry, directory: directory, consoleLogLevel: consoleLogLevel)
        }
    }
}
