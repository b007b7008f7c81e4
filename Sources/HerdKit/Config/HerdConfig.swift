import Logging

/// A whole herd: its servers, the links between them, and how each server is built.
/// One file describes the herd; every process of it reads the same file.
public struct HerdConfig: Sendable {
    public struct Server: Sendable, Hashable {
        public var name: String
        /// The address clients and neighbours reach it at (advertised, as Consul's `advertise_addr`).
        public var host: String
        public var clientPort: Int
        public var peerPort: Int
        /// The address its endpoints bind (`0.0.0.0` in a container); the host when nil.
        public var bind: String?
        /// The port of its admin endpoint (`/metrics`, `/healthz`, `/readyz`, `/status`); none when nil.
        public var adminPort: Int?

        public init(
            name: String, host: String, clientPort: Int, peerPort: Int, bind: String? = nil, adminPort: Int? = nil
        ) {
            self.name = name
            self.host = host
            self.clientPort = clientPort
            self.peerPort = peerPort
            self.bind = bind
            self.adminPort = adminPort
        }

        /// Where clients and neighbours connect.
        public var clientEndpoint: Endpoint { Endpoint(host: host, port: clientPort) }
        public var peerEndpoint: Endpoint { Endpoint(host: host, port: peerPort) }
        /// Where the server listens.
        public var clientBindEndpoint: Endpoint { Endpoint(host: bind ?? host, port: clientPort) }
        public var peerBindEndpoint: Endpoint { Endpoint(host: bind ?? host, port: peerPort) }
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

    /// Limits that keep one client or peer from taking the server's memory or stalling others.
    public struct Limits: Sendable, Hashable {
        public var maximumLineBytes = 64 * 1024
        public var idleTimeoutSeconds = 300
        /// Client connections open at once; further ones are closed at once.
        public var maximumClientConnections = 10_000
        /// How long a client reply waits for a neighbour to acknowledge its flood.
        public var floodTimeoutMilliseconds = 1_000
        /// Most updates one write to a neighbour carries: the most a link buffers for a slow peer.
        public var peerBatchLines = 4_096
        /// Longest a client may take to send a complete line (slowloris); 0 disables.
        public var lineTimeoutSeconds = 10
        /// How far ahead of the server's clock a client time may be; later times are refused.
        public var maximumTimeAheadSeconds = 300
        /// Longest client id accepted.
        public var maximumClientIDBytes = 256
        /// Most clients one server stores; a new client beyond it is refused.
        public var maximumClients = 10_000_000
        /// How long a peer connection may take over its handshake (TLS, hello, proof), either way.
        public var peerHandshakeTimeoutMilliseconds = 10_000
        /// Peer connections accepted at once (TLS handshakes and hellos in progress included); a herd
        /// needs one per neighbour.
        public var maximumPeerConnections = 64
        public init() {}
    }

    /// Whether and how often a server's store reaches the disk.
    public struct Storage: Sendable, Hashable {
        /// Keep a journal under `data_dir`; false keeps everything in memory only.
        public var durable = true
        /// How often the journal is fsynced; a machine crash can lose at most this much.
        public var fsyncIntervalMilliseconds = 1_000
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
    /// Where each server keeps its journal, in `<data dir>/<name>/`.
    public var dataDirectory: String
    public var storage: Storage
    public var limits: Limits
    public var redial: Redial
    /// How neighbours prove who they are.
    public var peerAuthentication: PeerAuthentication
    /// How log records are written (`log_format`).
    public var logFormat = LogFormat.text
    /// The address admin endpoints bind: loopback unless the config says otherwise (`admin.bind`).
    public var adminBind = "127.0.0.1"
    /// The file this was read from, for messages.
    public var source: String
    /// Relative paths in the file are taken from here.
    public var baseDirectory: String

    public init(
        servers: [Server], links: [Link], clientTransport: Component, peerTransport: Component,
        provider: Component, pipeline: [Component], logDirectory: String, logLevel: Logger.Level = .info,
        dataDirectory: String, storage: Storage = Storage(), limits: Limits = Limits(), redial: Redial = Redial(),
        peerAuthentication: PeerAuthentication = .machineSecret, source: String, baseDirectory: String
    ) {
        self.servers = servers
        self.links = links
        self.clientTransport = clientTransport
        self.peerTransport = peerTransport
        self.provider = provider
        self.pipeline = pipeline
        self.logDirectory = logDirectory
        self.logLevel = logLevel
        self.dataDirectory = dataDirectory
        self.storage = storage
        self.limits = limits
        self.redial = redial
        self.peerAuthentication = peerAuthentication
        self.source = source
        self.baseDirectory = baseDirectory
    }

    /// The stage names of the default pipeline, in order.
    public static let defaultPipeline = ["parse", "dedupe", "store", "flood", "respond"]

    /// Where `server`'s admin endpoint listens, if it has one.
    public func adminEndpoint(of server: Server) -> Endpoint? {
        server.adminPort.map { Endpoint(host: adminBind, port: $0) }
    }

    public func server(named name: String) -> Server? {
        servers.first { $0.name == name }
    }

    /// The servers linked to `name`, in config order.
    public func neighbours(of name: String) -> [String] {
        // One pass over the links, not one per server: a simulated herd has a thousand servers.
        var linked = Set<String>()
        for link in links {
            if link.first == name {
                linked.insert(link.second)
            } else if link.second == name {
                linked.insert(link.first)
            }
        }
        return servers.map(\.name).filter(linked.contains)
    }
}
