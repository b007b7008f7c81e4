import Logging

/// Names the parts a config can choose: pipeline stages, place providers and transports.
///
/// The built-in parts register here exactly as a user's own do, so a custom stage, provider or
/// transport is chosen by config the same way (see `Examples/`).
public struct HerdRegistry: Sendable {
    /// What a factory gets: its options from the config, and where it is used.
    public struct Context: Sendable {
        /// The component's `options` mapping, with errors that name the file and key.
        public var options: ConfigOptions
        /// The server the part is built for.
        public var serverName: String
        /// The whole config, for parts that need more than their options.
        public var config: HerdConfig
        /// The server's logger.
        public var logger: Logger
        /// The server's metrics, which `/metrics` serves: make a part's own counters from it.
        public var metrics: ServerMetrics

        public init(
            options: ConfigOptions, serverName: String, config: HerdConfig, logger: Logger,
            metrics: ServerMetrics? = nil
        ) {
            self.metrics = metrics ?? ServerMetrics(server: serverName)
            self.options = options
            self.serverName = serverName
            self.config = config
            self.logger = logger
        }
    }

    /// Which endpoint a transport is built for.
    public enum EndpointKind: String, Sendable, Hashable {
        case clients
        case peers
    }

    public typealias StageFactory = @Sendable (Context) throws -> any MessageHandler
    public typealias ProviderFactory = @Sendable (Context) throws -> any PlaceProvider
    public typealias TransportFactory = @Sendable (Context, EndpointKind) throws -> any Transport

    public private(set) var stages: [String: StageFactory] = [:]
    public private(set) var providers: [String: ProviderFactory] = [:]
    public private(set) var transports: [String: TransportFactory] = [:]

    /// An empty registry; most users start from ``core`` instead.
    public init() {}

    /// The five core stages: parse, dedupe, store, flood, respond.
    public static var core: HerdRegistry {
        var registry = HerdRegistry()
        registry.registerStage("parse") { context in
            try context.options.allowOnly([])
            return ParseStage()
        }
        registry.registerStage("dedupe") { context in
            try context.options.allowOnly([])
            return DedupeStage()
        }
        registry.registerStage("store") { context in
            try context.options.allowOnly([])
            return StoreStage()
        }
        registry.registerStage("flood") { context in
            try context.options.allowOnly([])
            return FloodStage()
        }
        registry.registerStage("respond") { context in
            try context.options.allowOnly([])
            return RespondStage()
        }
        return registry
    }

    /// Makes a stage available to the `pipeline` list under `name` (replacing any earlier one).
    public mutating func registerStage(_ name: String, factory: @escaping StageFactory) {
        stages[name] = factory
    }

    /// Makes a place provider available to `provider.name`.
    public mutating func registerProvider(_ name: String, factory: @escaping ProviderFactory) {
        providers[name] = factory
    }

    /// Makes a transport available to `transport.clients` and `transport.peers`.
    public mutating func registerTransport(_ name: String, factory: @escaping TransportFactory) {
        transports[name] = factory
    }

    /// Checks that every part the config names is registered and the pipeline can answer clients.
    public func validate(_ config: HerdConfig) throws(ConfigError) {
        func unknown(_ kind: String, _ name: String, _ key: String, _ known: [String]) -> ConfigError {
            ConfigError(
                file: config.source, key: key,
                reason: "unknown \(kind) '\(name)'; registered: \(known.sorted().joined(separator: ", "))")
        }
        for (component, key) in [
            (config.clientTransport, "transport.clients"), (config.peerTransport, "transport.peers"),
        ]
        where transports[component.name] == nil {
            throw unknown("transport", component.name, key, Array(transports.keys))
        }
        if providers[config.provider.name] == nil {
            throw unknown("provider", config.provider.name, "provider", Array(providers.keys))
        }
        for (index, stage) in config.pipeline.enumerated() where stages[stage.name] == nil {
            throw unknown("stage", stage.name, "pipeline[\(index)]", Array(stages.keys))
        }
        let names = config.pipeline.map(\.name)
        for required in ["parse", "respond"] where !names.contains(required) {
            throw ConfigError(
                file: config.source, key: "pipeline",
                reason: "must include '\(required)', or clients get no answers")
        }
    }

    public func makeStage(_ component: HerdConfig.Component, context: Context) throws -> any MessageHandler {
        guard let factory = stages[component.name] else {
            throw ConfigError(file: context.config.source, key: "pipeline", reason: "unknown stage '\(component.name)'")
        }
        return try factory(context)
    }

    public func makeProvider(context: Context) throws -> any PlaceProvider {
        let name = context.config.provider.name
        guard let factory = providers[name] else {
            throw ConfigError(file: context.config.source, key: "provider", reason: "unknown provider '\(name)'")
        }
        return try factory(context)
    }

    public func makeTransport(_ component: HerdConfig.Component, kind: EndpointKind, context: Context) throws
        -> any Transport
    {
        guard let factory = transports[component.name] else {
            throw ConfigError(
                file: context.config.source, key: "transport.\(kind.rawValue)",
                reason: "unknown transport '\(component.name)'")
        }
        return try factory(context, kind)
    }
}
