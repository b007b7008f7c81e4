import Synchronization

/// Where each server's peer endpoint is. Starts from the config; a server that binds port 0 records the
/// port it got, so a herd in one process (and the tests) can use free ports.
public final class PeerDirectory: Sendable {
    private let endpoints: Mutex<[String: Endpoint]>

    public init(config: HerdConfig) {
        var table: [String: Endpoint] = [:]
        for server in config.servers where server.peerPort != 0 {
            table[server.name] = server.peerEndpoint
        }
        self.endpoints = Mutex(table)
    }

    public func endpoint(of server: String) -> Endpoint? {
        endpoints.withLock { $0[server] }
    }

    public func record(_ endpoint: Endpoint, for server: String) {
        endpoints.withLock { $0[server] = endpoint }
    }
}
