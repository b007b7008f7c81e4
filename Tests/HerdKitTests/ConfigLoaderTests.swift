import Foundation
import Logging
import Testing

@testable import HerdKit

private func load(_ yaml: String) throws(ConfigError) -> HerdConfig {
    try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: "/etc/herd")
}

/// The error `yaml` is refused with.
private func refusal(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigError {
    try #require(throws: ConfigError.self, sourceLocation: sourceLocation) { try load(yaml) }
}

private let fullConfig = """
    servers:
      - {name: Alford, host: 127.0.0.1, client_port: 12000, peer_port: 12100}
      - name: Bolden
        client_port: 12001
        peer_port: 12101
      - {name: Parker, host: "::1", client_port: 0, peer_port: 0}
      - {name: Welsh, host: 10.0.0.7, client_port: 0, peer_port: 0}
    links:
      - [Alford, Bolden]
      - [Bolden, Parker]
      - Welsh-Alford
    transport:
      clients: tcp
      peers:
        name: tls
        options:
          cert: certs/server.pem
          verify: true
    provider:
      name: fixture
      options: {file: places.json}
    pipeline: [parse, dedupe, store, {name: audit, options: {level: 2}}, flood, respond]
    log_dir: logs-here
    log_level: debug
    data_dir: /var/lib/herd
    storage: {durable: false, fsync_interval_ms: 50}
    limits:
      max_line_bytes: 1024
      idle_timeout_seconds: 0
      max_client_connections: 7
      flood_timeout_ms: 250
      peer_batch_lines: 64
    peer_links:
      redial_initial_ms: 10
      redial_max_ms: 20
    """

@Suite("Config loader")
struct ConfigLoaderTests {
    @Test func aFullConfig() throws {
        let config = try load(fullConfig)
        #expect(
            config.servers == [
                HerdConfig.Server(name: "Alford", host: "127.0.0.1", clientPort: 12000, peerPort: 12100),
                HerdConfig.Server(name: "Bolden", host: "127.0.0.1", clientPort: 12001, peerPort: 12101),
                HerdConfig.Server(name: "Parker", host: "::1", clientPort: 0, peerPort: 0),
                HerdConfig.Server(name: "Welsh", host: "10.0.0.7", clientPort: 0, peerPort: 0),
            ])
        #expect(
            config.links == [
                HerdConfig.Link("Alford", "Bolden"), HerdConfig.Link("Bolden", "Parker"),
                HerdConfig.Link("Welsh", "Alford"),
            ])
        #expect(config.neighbours(of: "Alford") == ["Bolden", "Welsh"])
        #expect(config.neighbours(of: "Bolden") == ["Alford", "Parker"])
        #expect(config.neighbours(of: "Parker") == ["Bolden"])
        #expect(config.neighbours(of: "Nobody") == [])
        #expect(config.server(named: "Parker")?.peerEndpoint == Endpoint(host: "::1", port: 0))
        #expect(config.server(named: "Alford")?.clientEndpoint.description == "127.0.0.1:12000")

        #expect(config.clientTransport.name == "tcp")
        #expect(config.clientTransport.options.values.isEmpty)
        #expect(config.clientTransport.options.keyPath == "transport.clients.options")
        #expect(config.peerTransport.name == "tls")
        #expect(config.peerTransport.options.keyPath == "transport.peers.options")
        #expect(
            config.peerTransport.options.values == [
                "cert": .scalar("certs/server.pem", line: 17), "verify": .scalar("true", line: 18),
            ])
        #expect(try config.peerTransport.options.path("cert") == "/etc/herd/certs/server.pem")
        #expect(try config.peerTransport.options.bool("verify") == true)

        #expect(config.provider.name == "fixture")
        #expect(config.provider.options.keyPath == "provider.options")
        #expect(try config.provider.options.path("file") == "/etc/herd/places.json")

        #expect(config.pipeline.map(\.name) == ["parse", "dedupe", "store", "audit", "flood", "respond"])
        #expect(config.pipeline[3].options.keyPath == "pipeline[3].options")
        #expect(try config.pipeline[3].options.int("level") == 2)
        #expect(config.pipeline[0].options.values.isEmpty)

        #expect(config.logDirectory == "/etc/herd/logs-here")
        #expect(config.logLevel == .debug)
        #expect(config.limits.maximumLineBytes == 1024)
        #expect(config.limits.idleTimeoutSeconds == 0)
        #expect(config.limits.maximumClientConnections == 7)
        #expect(config.limits.floodTimeoutMilliseconds == 250)
        #expect(config.limits.peerBatchLines == 64)
        #expect(config.dataDirectory == "/var/lib/herd")
        #expect(config.storage.durable == false)
        #expect(config.storage.fsyncIntervalMilliseconds == 50)
        #expect(config.redial.initialMilliseconds == 10)
        #expect(config.redial.maximumMilliseconds == 20)
        #expect(config.source == "herd.yaml")
        #expect(config.baseDirectory == "/etc/herd")
    }

    @Test func aMinimalConfigGetsTheDefaults() throws {
        let config = try load(
            """
            servers:
              - {name: Solo, client_port: 9000, peer_port: 9100}
            """)
        #expect(
            config.servers == [HerdConfig.Server(name: "Solo", host: "127.0.0.1", clientPort: 9000, peerPort: 9100)])
        #expect(config.links == [])
        #expect(config.neighbours(of: "Solo") == [])
        #expect(config.clientTransport.name == "tcp")
        #expect(config.peerTransport.name == "tcp")
        #expect(config.provider.name == "fixture")
        #expect(config.provider.options.values.isEmpty)
        #expect(config.pipeline.map(\.name) == ["parse", "dedupe", "store", "flood", "respond"])
        #expect(config.logDirectory == "/etc/herd/logs")
        #expect(config.logLevel == .info)
        #expect(config.limits.maximumLineBytes == 65536)
        #expect(config.limits.idleTimeoutSeconds == 300)
        #expect(config.limits.maximumClientConnections == 10_000)
        #expect(config.limits.floodTimeoutMilliseconds == 1_000)
        #expect(config.limits.peerBatchLines == 4_096)
        #expect(config.dataDirectory == "/etc/herd/data")
        #expect(config.storage.durable == true)
        #expect(config.storage.fsyncIntervalMilliseconds == 1_000)
        #expect(config.redial.initialMilliseconds == 100)
        #expect(config.redial.maximumMilliseconds == 5000)
    }

    @Test func anAbsoluteLogDirectoryIsKept() throws {
        let config = try load(
            """
            servers: [{name: Solo, client_port: 9000, peer_port: 9100}]
            log_dir: /var/log/herd
            """)
        #expect(config.logDirectory == "/var/log/herd")
    }

    @Test func aNonIntegerPortNamesFileKeyAndLine() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - name: Bolden
                client_port: twelve
                peer_port: 12101
            """)
        #expect(error.file == "herd.yaml")
        #expect(error.key == "servers[1].client_port")
        #expect(error.line == 4)
        #expect(error.description == "herd.yaml:4: servers[1].client_port: expected an integer, got 'twelve'")
    }

    @Test func aPortOutOfRange() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 70000}
            """)
        #expect(error.description == "herd.yaml:2: servers[0].peer_port: must be between 0 and 65535, got 70000")
    }

    @Test func anUnknownTopLevelKey() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
            colour: blue
            """)
        #expect(error.key == "colour")
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("herd.yaml:3: colour: unknown key; expected one of: "))
        #expect(error.description.contains("servers"))
    }

    @Test func anUnknownServerKey() throws {
        let error = try refusal(
            """
            servers:
              - name: Alford
                client_port: 12000
                peer_port: 12100
                prot: 1
            """)
        #expect(error.key == "servers[0].prot")
        #expect(error.line == 5)
    }

    @Test func aMissingPort() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000}
            """)
        #expect(error.key == "servers[0].peer_port")
        #expect(error.description.hasPrefix("herd.yaml"))
        #expect(error.description.contains("servers[0].peer_port: missing"))
    }

    @Test func aDuplicateServerName() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - {name: Bolden, client_port: 12001, peer_port: 12101}
              - {name: Alford, client_port: 12002, peer_port: 12102}
            """)
        #expect(error.key == "servers[2].name")
        #expect(error.line == 4)
        #expect(error.description.contains("duplicate server name 'Alford'"))
    }

    @Test(arguments: ["", "two words", "tab\there"])
    func aBadServerName(name: String) throws {
        let error = try refusal(
            """
            servers:
              - {name: "\(name)", client_port: 12000, peer_port: 12100}
            """)
        #expect(error.key == "servers[0].name")
        #expect(error.line == 2)
    }

    @Test func aLinkToAnUnknownServer() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - {name: Bolden, client_port: 12001, peer_port: 12101}
            links:
              - [Alford, Bolden]
              - [Alford, Hamilton]
            """)
        #expect(error.key == "links[1]")
        #expect(error.line == 6)
        #expect(error.description == "herd.yaml:6: links[1]: 'Hamilton' is not a server in this config")
    }

    @Test func aSelfLink() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
            links:
              - [Alford, Alford]
            """)
        #expect(error.key == "links[0]")
        #expect(error.line == 4)
        #expect(error.description.contains("linked to itself"))
    }

    @Test(arguments: ["[Bolden, Alford]", "[Alford, Bolden]"])
    func aDuplicateLink(second: String) throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - {name: Bolden, client_port: 12001, peer_port: 12101}
            links:
              - [Alford, Bolden]
              - \(second)
            """)
        #expect(error.key == "links[1]")
        #expect(error.line == 6)
    }

    @Test(arguments: ["[Alford]", "[Alford, Bolden, Alford]", "{a: b}"])
    func aLinkThatIsNotAPair(link: String) throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - {name: Bolden, client_port: 12001, peer_port: 12101}
            links:
              - \(link)
            """)
        #expect(error.key == "links[0]")
        #expect(error.line == 5)
    }

    @Test func duplicatePortsAcrossServers() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12100}
              - {name: Bolden, client_port: 12100, peer_port: 12101}
            """)
        #expect(error.key == "servers[1].client_port")
        #expect(error.line == 3)
        #expect(error.description.contains("127.0.0.1:12100 is already used by servers[0].peer_port"))
    }

    @Test func duplicatePortsWithinAServer() throws {
        let error = try refusal(
            """
            servers:
              - {name: Alford, client_port: 12000, peer_port: 12000}
            """)
        #expect(error.key == "servers[0].peer_port")
        #expect(error.description.contains("already used by servers[0].client_port"))
    }

    @Test func theSamePortOnDifferentHostsIsFine() throws {
        let config = try load(
            """
            servers:
              - {name: Alford, host: 10.0.0.1, client_port: 12000, peer_port: 12100}
              - {name: Bolden, host: 10.0.0.2, client_port: 12000, peer_port: 12100}
            """)
        #expect(config.servers.map(\.name) == ["Alford", "Bolden"])
    }

    @Test(arguments: ["servers: []", "servers: Alford", "servers:", "log_level: info"])
    func noServers(yaml: String) throws {
        let error = try refusal(yaml)
        #expect(error.key == "servers")
        #expect(error.description.hasPrefix("herd.yaml"))
    }

    @Test func aBadLogLevel() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            log_level: loud
            """)
        #expect(error.key == "log_level")
        #expect(error.line == 2)
        #expect(
            error.description
                == "herd.yaml:2: log_level: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"
        )
    }

    @Test func redialMaximumBelowTheInitialDelay() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            peer_links:
              redial_initial_ms: 500
              redial_max_ms: 100
            """)
        #expect(error.key == "peer_links.redial_max_ms")
        #expect(error.line == 4)
    }

    @Test func anUnknownLimit() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            limits:
              max_line_bytes: 1024
              max_lines: 3
            """)
        #expect(error.key == "limits.max_lines")
        #expect(error.line == 4)
    }

    @Test func aComponentGivenAsAList() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            provider: [fixture]
            """)
        #expect(error.key == "provider")
        #expect(error.line == 2)
    }

    @Test func aComponentWithoutAName() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            transport:
              peers: {options: {cert: x.pem}}
            """)
        #expect(error.key == "transport.peers.name")
        #expect(error.description.contains("missing"))
    }

    @Test func anEmptyPipeline() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            pipeline: []
            """)
        #expect(error.key == "pipeline")
        #expect(error.line == 2)
    }

    @Test(arguments: ["servers: [unclosed", "servers:\n\t- x", "a: b: c", "{"])
    func invalidYAML(yaml: String) throws {
        let error = try refusal(yaml)
        #expect(error.file == "herd.yaml")
        #expect(error.description.hasPrefix("herd.yaml"))
        #expect(error.description.contains("not valid YAML"))
    }

    @Test func anEmptyFile() throws {
        let error = try refusal("")
        #expect(error.description == "herd.yaml: the file is empty")
    }

    @Test func aDocumentThatIsNotAMapping() throws {
        let error = try refusal("- just\n- a list\n")
        #expect(error.key == "")
        #expect(error.line == 1)
        #expect(error.description == "herd.yaml:1: expected a mapping of keys to values")
    }

    @Test func aDuplicateKey() throws {
        let error = try refusal(
            """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            log_level: info
            log_level: debug
            """)
        #expect(error.description.hasPrefix("herd.yaml: not valid YAML"))
        #expect(error.description.contains("'log_level'"))
    }

    @Test func loadingAMissingFileNamesIt() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(path: "/nonexistent/herd-test/herd.yaml")
        }
        #expect(error.description.hasPrefix("/nonexistent/herd-test/herd.yaml: cannot read the file"))
    }

    @Test func theExampleConfigIsTheReferenceHerd() throws {
        let configs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs")
        let config = try ConfigLoader.load(path: configs.appendingPathComponent("herd.example.yaml").path)
        #expect(config.servers.map(\.name) == ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"])
        #expect(config.servers.map(\.clientPort) == [12000, 12001, 12002, 12003, 12004])
        #expect(config.servers.map(\.peerPort) == [12100, 12101, 12102, 12103, 12104])
        #expect(config.neighbours(of: "Hamilton") == ["Parker"])
        #expect(config.neighbours(of: "Parker") == ["Alford", "Bolden", "Hamilton"])
        #expect(config.logDirectory == configs.path + "/../herd-logs")
    }
}

@Suite("Default herd")
struct DefaultHerdTests {
    @Test func fiveServers() {
        let herd = HerdConfig.defaultHerd()
        #expect(herd.servers.map(\.name) == ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"])
        #expect(herd.servers.map(\.host) == Array(repeating: "127.0.0.1", count: 5))
        #expect(herd.servers.map(\.clientPort) == [12000, 12001, 12002, 12003, 12004])
        #expect(herd.servers.map(\.peerPort) == [12100, 12101, 12102, 12103, 12104])
    }

    @Test(
        "Neighbours per PROTOCOL.md section 6",
        arguments: [
            ("Alford", ["Parker", "Welsh"]),
            ("Bolden", ["Parker", "Welsh"]),
            ("Hamilton", ["Parker"]),
            ("Parker", ["Alford", "Bolden", "Hamilton"]),
            ("Welsh", ["Alford", "Bolden"]),
        ])
    func neighbours(server: String, expected: [String]) {
        #expect(HerdConfig.defaultHerd().neighbours(of: server) == expected)
    }

    @Test func componentsAndLogs() {
        let herd = HerdConfig.defaultHerd(logDirectory: "/tmp/herd-logs-test")
        #expect(herd.clientTransport.name == "tcp")
        #expect(herd.peerTransport.name == "tcp")
        #expect(herd.provider.name == "fixture")
        #expect(herd.pipeline.map(\.name) == ["parse", "dedupe", "store", "flood", "respond"])
        #expect(herd.logDirectory == "/tmp/herd-logs-test")
        #expect(HerdConfig.defaultHerd().logDirectory == "herd-logs")
        #expect(herd.logLevel == .info)
    }
}
