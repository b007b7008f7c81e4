import Foundation
import Logging
import Yams

/// Reads a herd config from YAML and checks it: unknown keys, wrong types, out-of-range ports, duplicate
/// names and dangling links are errors naming the file, key and line.
public enum ConfigLoader {
    /// Reads and validates the file at `path`.
    public static func load(path: String) throws(ConfigError) -> HerdConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(yaml: text, source: path, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Reads and validates config text; `source` names it in errors.
    public static func parse(yaml: String, source: String, baseDirectory: String) throws(ConfigError) -> HerdConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(file: source, key: "", reason: "not valid YAML: \(error)")
        }
        guard let root else { throw ConfigError(file: source, key: "", reason: "the file is empty") }
        let value = try convert(root, source: source, path: "")
        let top = ConfigOptions(
            values: try mapping(value, source: source, path: ""), keyPath: "", file: source,
            baseDirectory: baseDirectory)
        return try TopLevelReader(top: top).read()
    }

    static func mapping(_ value: ConfigValue, source: String, path: String) throws(ConfigError) -> [String: ConfigValue]
    {
        guard case .map(let members, _) = value else {
            throw ConfigError(file: source, key: path, line: value.line, reason: "expected a mapping of keys to values")
        }
        return members
    }

    static func convert(_ node: Node, source: String, path: String) throws(ConfigError) -> ConfigValue {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, line: line)
        case .sequence(let sequence):
            var items: [ConfigValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, source: source, path: "\(path)[\(index)]"))
            }
            return .list(items, line: line)
        case .mapping(let mapping):
            var members: [String: ConfigValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigError(file: source, key: path, line: key.mark?.line, reason: "keys must be plain names")
                }
                let name = keyScalar.string
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                guard members[name] == nil else {
                    throw ConfigError(file: source, key: childPath, line: key.mark?.line, reason: "duplicate key")
                }
                members[name] = try convert(value, source: source, path: childPath)
            }
            return .map(members, line: line)
        case .alias:
            throw ConfigError(file: source, key: path, line: line, reason: "YAML aliases are not supported")
        }
    }
}

/// Walks the top-level mapping of a config file.
private struct TopLevelReader {
    let top: ConfigOptions

    var file: String { top.file }

    func read() throws(ConfigError) -> HerdConfig {
        try top.allowOnly([
            "servers", "links", "transport", "provider", "pipeline", "log_dir", "log_level", "data_dir", "storage",
            "limits", "peer_links", "admin", "log_format",
        ])
        let servers = try readServers()
        let links = try readLinks(servers: servers)
        let transport = try top.options("transport")
        try transport.allowOnly(["clients", "peers"])
        let clients = try component(transport, "clients", default: "tcp")
        let peers = try component(transport, "peers", default: "tcp")
        let provider = try component(top, "provider", default: "fixture")
        let pipeline = try readPipeline()
        // `-` is standard error, not a directory.
        let logDirectory =
            try top.string("log_dir") == LogFile.standardErrorPath
            ? LogFile.standardErrorPath
            : try top.path("log_dir") ?? ConfigPaths.resolve("logs", against: top.baseDirectory)
        let logLevel = try readLogLevel()

        let dataDirectory = try top.path("data_dir") ?? ConfigPaths.resolve("data", against: top.baseDirectory)
        var storage = HerdConfig.Storage()
        let storageOptions = try top.options("storage")
        try storageOptions.allowOnly(["durable", "fsync_interval_ms"])
        storage.durable = try storageOptions.bool("durable") ?? storage.durable
        storage.fsyncIntervalMilliseconds =
            try storageOptions.int("fsync_interval_ms", in: 1...3_600_000) ?? storage.fsyncIntervalMilliseconds

        var limits = HerdConfig.Limits()
        let limitOptions = try top.options("limits")
        try limitOptions.allowOnly([
            "max_line_bytes", "idle_timeout_seconds", "max_client_connections", "flood_timeout_ms",
            "peer_batch_lines", "line_timeout_seconds", "max_time_ahead_seconds", "max_client_id_bytes", "max_clients",
            "peer_handshake_timeout_ms", "max_peer_connections",
        ])
        limits.maximumLineBytes =
            try limitOptions.int("max_line_bytes", in: 256...(64 << 20)) ?? limits.maximumLineBytes
        limits.idleTimeoutSeconds =
            try limitOptions.int("idle_timeout_seconds", in: 0...86_400) ?? limits.idleTimeoutSeconds
        limits.maximumClientConnections =
            try limitOptions.int("max_client_connections", in: 1...1_000_000) ?? limits.maximumClientConnections
        limits.floodTimeoutMilliseconds =
            try limitOptions.int("flood_timeout_ms", in: 1...600_000) ?? limits.floodTimeoutMilliseconds
        limits.peerBatchLines = try limitOptions.int("peer_batch_lines", in: 1...1_000_000) ?? limits.peerBatchLines
        limits.lineTimeoutSeconds =
            try limitOptions.int("line_timeout_seconds", in: 0...86_400) ?? limits.lineTimeoutSeconds
        limits.maximumTimeAheadSeconds =
            try limitOptions.int("max_time_ahead_seconds", in: 0...31_536_000) ?? limits.maximumTimeAheadSeconds
        limits.maximumClientIDBytes =
            try limitOptions.int("max_client_id_bytes", in: 1...65_536) ?? limits.maximumClientIDBytes
        limits.maximumClients = try limitOptions.int("max_clients", in: 1...1_000_000_000) ?? limits.maximumClients
        limits.peerHandshakeTimeoutMilliseconds =
            try limitOptions.int("peer_handshake_timeout_ms", in: 1...600_000)
            ?? limits.peerHandshakeTimeoutMilliseconds
        limits.maximumPeerConnections =
            try limitOptions.int("max_peer_connections", in: 1...1_000_000) ?? limits.maximumPeerConnections

        var redial = HerdConfig.Redial()
        let peerOptions = try top.options("peer_links")
        try peerOptions.allowOnly([
            "redial_initial_ms", "redial_max_ms", "authentication",
            "secret_env", "secret_file", "previous_secret_env", "previous_secret_file",
        ])
        redial.initialMilliseconds =
            try peerOptions.int("redial_initial_ms", in: 1...600_000) ?? redial.initialMilliseconds
        redial.maximumMilliseconds =
            try peerOptions.int("redial_max_ms", in: 1...3_600_000) ?? redial.maximumMilliseconds
        if redial.maximumMilliseconds < redial.initialMilliseconds {
            throw peerOptions.error("redial_max_ms", "must not be less than redial_initial_ms")
        }
        let peerAuthentication = try PeerAuthenticationReader(
            options: peerOptions, servers: servers, links: links, peerTransport: peers.name
        ).read()

        let adminOptions = try top.options("admin")
        try adminOptions.allowOnly(["bind"])
        var config = HerdConfig(
            servers: servers, links: links, clientTransport: clients, peerTransport: peers, provider: provider,
            pipeline: pipeline, logDirectory: logDirectory, logLevel: logLevel, dataDirectory: dataDirectory,
            storage: storage, limits: limits, redial: redial, peerAuthentication: peerAuthentication, source: file,
            baseDirectory: top.baseDirectory)
        if let format = try top.string("log_format") {
            guard let parsed = LogFormat(rawValue: format) else {
                throw top.error("log_format", "expected text or json, got '\(format)'")
            }
            config.logFormat = parsed
        }
        if let bind = try adminOptions.string("bind") {
            guard !bind.isEmpty else {
                throw adminOptions.error("bind", "expected an address, as 127.0.0.1 or 0.0.0.0")
            }
            config.adminBind = bind
        }
        return config
    }

    private func readServers() throws(ConfigError) -> [HerdConfig.Server] {
        guard let value = top.values["servers"] else { throw top.error("servers", "missing; list at least one server") }
        guard case .list(let items, _) = value, !items.isEmpty else {
            throw top.error("servers", "expected a non-empty list of servers")
        }
        var servers: [HerdConfig.Server] = []
        var endpoints: [Endpoint: String] = [:]
        for (index, item) in items.enumerated() {
            let path = "servers[\(index)]"
            let members = try ConfigLoader.mapping(item, source: file, path: path)
            let options = ConfigOptions(values: members, keyPath: path, file: file, baseDirectory: top.baseDirectory)
            try options.allowOnly(["name", "host", "bind", "client_port", "peer_port", "admin_port"])
            guard let name = try options.string("name") else { throw options.error("name", "missing") }
            guard !name.isEmpty, !name.utf8.contains(where: ASCII.isWhiteSpace) else {
                throw options.error("name", "must be non-empty with no white space, got '\(name)'")
            }
            if servers.contains(where: { $0.name == name }) {
                throw options.error("name", "duplicate server name '\(name)'")
            }
            let host = try options.string("host") ?? "127.0.0.1"
            guard let clientPort = try options.int("client_port", in: 0...65535) else {
                throw options.error("client_port", "missing")
            }
            guard let peerPort = try options.int("peer_port", in: 0...65535) else {
                throw options.error("peer_port", "missing")
            }
            let bind = try options.string("bind")
            if let bind, bind.isEmpty { throw options.error("bind", "expected an address, as 0.0.0.0") }
            let adminPort = try options.int("admin_port", in: 0...65535)
            let server = HerdConfig.Server(
                name: name, host: host, clientPort: clientPort, peerPort: peerPort, bind: bind, adminPort: adminPort)
            var ports = [("client_port", server.clientEndpoint), ("peer_port", server.peerEndpoint)]
            if let adminPort { ports.append(("admin_port", Endpoint(host: host, port: adminPort))) }
            for (key, endpoint) in ports where endpoint.port != 0 {
                if let user = endpoints[endpoint] {
                    throw options.error(key, "\(endpoint) is already used by \(user)")
                }
                endpoints[endpoint] = "\(path).\(key)"
            }
            servers.append(server)
        }
        return servers
    }

    private func readLinks(servers: [HerdConfig.Server]) throws(ConfigError) -> [HerdConfig.Link] {
        guard let value = top.values["links"] else { return [] }
        guard case .list(let items, _) = value else { throw top.error("links", "expected a list of [A, B] pairs") }
        var links: [HerdConfig.Link] = []
        for (index, item) in items.enumerated() {
            let path = "links[\(index)]"
            var names: [String] = []
            switch item {
            case .list(let pair, _):
                for member in pair {
                    guard case .scalar(let name, _) = member else { break }
                    names.append(name)
                }
            case .scalar(let text, _):
                names = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "," }).map(String.init)
            case .map:
                break
            }
            let error = { (reason: String) in ConfigError(file: file, key: path, line: item.line, reason: reason) }
            guard names.count == 2 else { throw error("expected two server names, as [Alford, Parker]") }
            for name in names where !servers.contains(where: { $0.name == name }) {
                throw error("'\(name)' is not a server in this config")
            }
            guard names[0] != names[1] else { throw error("a server cannot be linked to itself") }
            let link = HerdConfig.Link(names[0], names[1])
            if links.contains(where: { Set([$0.first, $0.second]) == Set(names) }) {
                throw error("duplicate link between \(names[0]) and \(names[1])")
            }
            links.append(link)
        }
        return links
    }

    /// A component is a bare name (`tcp`) or `{name: tls, options: {...}}`.
    private func component(_ parent: ConfigOptions, _ key: String, default name: String) throws(ConfigError)
        -> HerdConfig.Component
    {
        let path = parent.keyPath.isEmpty ? key : "\(parent.keyPath).\(key)"
        guard let value = parent.values[key] else {
            return HerdConfig.Component(
                name: name,
                options: ConfigOptions(keyPath: "\(path).options", file: file, baseDirectory: top.baseDirectory))
        }
        return try Self.component(value, path: path, file: file, baseDirectory: top.baseDirectory)
    }

    static func component(_ value: ConfigValue, path: String, file: String, baseDirectory: String) throws(ConfigError)
        -> HerdConfig.Component
    {
        switch value {
        case .scalar(let name, let line):
            return HerdConfig.Component(
                name: name,
                options: ConfigOptions(
                    keyPath: "\(path).options", file: file, baseDirectory: baseDirectory, line: line))
        case .map(let members, let line):
            let options = ConfigOptions(
                values: members, keyPath: path, file: file, baseDirectory: baseDirectory, line: line)
            try options.allowOnly(["name", "options"])
            guard let name = try options.string("name") else { throw options.error("name", "missing") }
            return HerdConfig.Component(name: name, options: try options.options("options"))
        case .list:
            throw ConfigError(
                file: file, key: path, line: value.line, reason: "expected a name or {name: ..., options: ...}")
        }
    }

    private func readPipeline() throws(ConfigError) -> [HerdConfig.Component] {
        guard let value = top.values["pipeline"] else {
            return HerdConfig.defaultPipeline.enumerated().map { index, name in
                HerdConfig.Component(
                    name: name,
                    options: ConfigOptions(
                        keyPath: "pipeline[\(index)].options", file: file, baseDirectory: top.baseDirectory))
            }
        }
        guard case .list(let items, _) = value, !items.isEmpty else {
            throw top.error("pipeline", "expected a non-empty list of stage names")
        }
        var stages: [HerdConfig.Component] = []
        for (index, item) in items.enumerated() {
            stages.append(
                try Self.component(item, path: "pipeline[\(index)]", file: file, baseDirectory: top.baseDirectory))
        }
        return stages
    }

    private func readLogLevel() throws(ConfigError) -> Logger.Level {
        guard let text = try top.string("log_level") else { return .info }
        guard let level = Logger.Level(rawValue: text) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw top.error("log_level", "expected one of \(names), got '\(text)'")
        }
        return level
    }
}
