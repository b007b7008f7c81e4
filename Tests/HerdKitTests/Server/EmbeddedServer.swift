import HerdKit
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import HerdKit

/// A server core on an `EmbeddedEventLoop`, with client and peer connections as `EmbeddedChannel`s: the
/// whole data path (sessions, pipeline, store, pass, peer links, flood gate) with no socket and no thread,
/// driven step by step by a synchronous test, as SwiftNIO tests its handlers.
final class EmbeddedServer {
    let loop = EmbeddedEventLoop()
    let store = MemoryStore()
    let core: ServerCore
    let transport: EmbeddedTransport
    let config: HerdConfig

    /// - Parameters:
    ///   - name: the server (of the reference herd) to be.
    ///   - stages: the pipeline (the default one when nil).
    init(
        name: String = "Hamilton", stages: [any MessageHandler]? = nil,
        settings configure: (inout ServerSettings) -> Void = { _ in }
    ) {
        config = HerdConfig.defaultHerd()
        var settings = ServerSettings()
        settings.floodTimeout = .seconds(1)
        configure(&settings)
        transport = EmbeddedTransport(loop: loop)
        let counters = ServerCounters(metrics: ServerMetrics(server: name), neighbours: config.neighbours(of: name))
        let peers = PeerLinks(
            serverName: name, neighbours: config.neighbours(of: name), store: store, transport: transport,
            directory: PeerDirectory(config: config), eventLoop: loop, settings: settings,
            logger: Logger(label: "test"), counters: counters)
        core = ServerCore(
            name: name, eventLoop: loop, store: store,
            pipeline: Pipeline(stages ?? [ParseStage(), DedupeStage(), StoreStage(), FloodStage(), RespondStage()]),
            peers: peers, provider: NoPlaces(), logFile: nil, trafficEnabled: false, settings: settings,
            logger: Logger(label: "test"), clock: FixedClock(WallTime(seconds: 1_621_464_828, nanoseconds: 0)),
            counters: counters)
    }

    /// Starts the peer links (they dial the embedded transport).
    func startLinks() {
        core.peers.start(boundPeerEndpoint: Endpoint(host: "127.0.0.1", port: 12102))
        loop.run()
    }

    /// A client connection with its session.
    func connectClient() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try core.serveClient(channel, peer: ConnectionPeer(remoteDescription: "client"))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return channel
    }

    /// The outgoing link to `neighbour`, after it said hello and got `EPOCH epoch`.
    func linkUp(_ neighbour: String, epoch: UInt64 = 7) throws -> EmbeddedChannel {
        let channel = try #require(transport.dialled[neighbour], "\(neighbour) was not dialled")
        #expect(try readText(channel) == "HELLO \(core.name)\n")
        try channel.writeInbound(ByteBuffer(string: "EPOCH \(epoch)\n"))
        loop.run()
        return channel
    }

    /// Sends `text` on `channel` and runs the loop to the end of the pass.
    func send(_ text: String, on channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        loop.run()
    }

    /// Every write on `channel` since the last call, each as its text.
    func writes(_ channel: EmbeddedChannel) throws -> [String] {
        var writes: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { writes.append(String(buffer: buffer)) }
        return writes
    }

    /// Everything written on `channel` since the last call, as one text.
    func readText(_ channel: EmbeddedChannel) throws -> String {
        try writes(channel).joined()
    }
}

/// A transport whose dials make `EmbeddedChannel`s on the test's loop, kept by neighbour for the test.
final class EmbeddedTransport: Transport, @unchecked Sendable {
    // @unchecked: used only on the embedded loop's thread, which is the test's.
    let loop: EmbeddedEventLoop
    var dialled: [String: EmbeddedChannel] = [:]
    private let ports: [Int: String]

    init(loop: EmbeddedEventLoop) {
        self.loop = loop
        self.ports = Dictionary(
            uniqueKeysWithValues: HerdConfig.defaultHerd().servers.map { ($0.peerPort, $0.name) })
    }

    var eventLoopGroup: any EventLoopGroup { loop }

    func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<any Channel>
    {
        eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
    }

    func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void> {
        let channel = EmbeddedChannel(loop: loop)
        do {
            try setup.ready(channel, ConnectionPeer(remoteDescription: "embedded:\(endpoint.port)"))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: endpoint.port)).wait()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        if let name = ports[endpoint.port] { dialled[name] = channel }
        return eventLoop.makeSucceededVoidFuture()
    }
}

/// A provider with no places, answered at once.
struct NoPlaces: PlaceProvider {
    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse { PlacesResponse(results: []) }
    func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? { PlacesResponse(results: []) }
}
