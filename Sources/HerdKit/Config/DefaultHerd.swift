extension HerdConfig {
    /// The herd `herd up` starts with no config: the 2016 reference herd (PROTOCOL.md section 6) on
    /// 127.0.0.1, client ports 12000-12004 and peer ports 12100-12104, TCP, the offline fixture provider,
    /// logs in `./herd-logs`, journals in `./herd-data`.
    public static func defaultHerd(logDirectory: String = "herd-logs", dataDirectory: String = "herd-data")
        -> HerdConfig
    {
        let names = ["Alford", "Bolden", "Hamilton", "Parker", "Welsh"]
        let servers = names.enumerated().map { index, name in
            Server(
                name: name, host: "127.0.0.1", clientPort: 12000 + index, peerPort: 12100 + index,
                adminPort: 12200 + index)
        }
        let source = "<built-in default herd>"
        func component(_ name: String, _ key: String) -> Component {
            Component(name: name, options: ConfigOptions(keyPath: key, file: source, baseDirectory: ""))
        }
        return HerdConfig(
            servers: servers,
            links: [
                Link("Alford", "Parker"), Link("Alford", "Welsh"), Link("Bolden", "Parker"),
                Link("Bolden", "Welsh"), Link("Hamilton", "Parker"),
            ],
            clientTransport: component("tcp", "transport.clients.options"),
            peerTransport: component("tcp", "transport.peers.options"),
            provider: component("fixture", "provider.options"),
            pipeline: defaultPipeline.enumerated().map { component($1, "pipeline[\($0)].options") },
            logDirectory: logDirectory,
            dataDirectory: dataDirectory,
            // One process runs the five: they share a secret of their own that never leaves it.
            peerAuthentication: .secret(PeerKeys(current: .random())),
            source: source,
            baseDirectory: ""
        )
    }
}
