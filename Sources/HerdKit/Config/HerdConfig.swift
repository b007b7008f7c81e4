import Logging

/// A whole herd: its servers, the links between them, and how each server is built.
/// One file describes the herd; every process of it reads the same file.
public struct HerdConfig: Sendable {
    public struct Server: Sendable, Hashable {
        public var name: String
        public var host: String
        public var clientPort: Int
        public var peerPort: Int

        public init(name: String, host: String, clientPort: Int, peerPort: Int) {
            self.name = name
            self.host = host
            self.clientPort = clientPort
            self.peerPort = peerPort
        }

        public var clientEndpoint: Endpoint { Endpoint(host: host, port: clientPort) }
        public var peerEndpoint: Endpoint { Endpoint(host: host, port: peerPort) }
    }

    /// A bidirectional link between two servers.
    public struct Link: Sendable, Hashable {
        public var first: String
        public var second: String
        public init(_ first: String, _ second: String) {
            self.first = first
            self.second = second
        }
    }

    /// A registered component chosen by name, with its options.
    public struct Component: Sendable, Hashable {
        public var name: String
        public var options: ConfigOptions
        public init(name: String, options: ConfigOptions) {
            self.name = name
            self.options = options
        }
    }

    /// Limits applied to connections and peer queues.
    public struct Limits: Sendable, Hashable {
        public var maximumLineBytes = 64 * 1024
        public var idleTimeoutSeconds = 300
        /// Updates queued for one neighbour before further ones are dropped.
        public var floodQueueLength = 100_000
        public init() {}
    }

    /// How a server re-dials a neighbour that is down: capped exponential backoff with jitter.
    public struct Redial: Sendable, Hashable {
        public var initialMilliseconds = 100
        public var maximumMilliseconds = 5_000
        public init() {}
    }

    public var servers: [Server]
    public var links: [Link]
    public var clientTransport: Component
    public var peerTransport: Component
    public var provider: Component
    public var pipeline: [Component]
    /// Where each server writes `<name>.log`.
    public var logDirectory: String
    public var logLevel: Logger.Level
    public var limits: Limits
    public var redial: Redial
    /// The file this was read from, for messages.
    public var source: String
    /// Relative paths in the file are taken from here.
    public var baseDirectory: String

    public init(
        servers: [Server], links: [Link], clientTransport: Component, peerTransport: Component,
        provider: Component, pipeline: [Component], logDirectory: String, logLevel: Logger.Level = .info,
        limits: Limits = Limits(), redial: Redial = Redial(), source: String, baseDirectory: String
    ) {
        self.servers = servers
        self.links = links
        self.clientTransport = clientTransport
        self.peerTransport = peerTransport
        self.provider = provider
        self.pipeline = pipeline
        self.logDirectory = logDirectory
        self.logLevel = logLevel
        self.limits = limits
        self.redial = redial
        self.source = source
        self.baseDirectory = baseDirectory
    }

    /// The stage names of the default pipeline, in order.
    public static let defaultPipeline = ["parse", "dedupe", "store", "flood", "respond"]

    public func server(named name: String) -> Server? {
        servers.first { $0.name == name }
    }

    /// The servers linked to `name`, in config order.
    public func neighbours(of name: String) -> [String] {
        servers.map(\.name).filter { other in
            links.contains { ($0.first == name && $0.second == other) || ($0.second == name && $0.first == other) }
        }
    }
}
