import HerdKit
import NIOCore
import NIOEmbedded

/// The network of a simulated herd: every connection between its hosts, with a one-way latency per pair of
/// hosts, segment loss (a lost segment arrives a retransmission timeout later, as TCP makes it), cuts and
/// heals. Each direction of a connection delivers in order, as TCP does; different connections are
/// independent, so their segments interleave in any order their latencies allow.
///
/// Lives on the simulation's one `EmbeddedEventLoop` and is used only from its thread (hence
/// `@unchecked Sendable`: transports must be `Sendable`, and this one never leaves the loop).
public final class SimulatedNetwork: @unchecked Sendable {
    /// How a cut link behaves.
    public enum CutMode: Sendable, Hashable {
        /// Segments are held (TCP retransmits them) and arrive after the heal; dials time out.
        case silent
        /// Every connection over the link is reset, and dials are refused until the heal.
        case reset
    }

    /// What a connection carries: the herd's peer protocol, or client lines.
    public enum Kind: Sendable, Hashable {
        case peers, clients
    }

    /// One flush's bytes arriving at a host, for observers that count the traffic.
    public struct Delivery {
        public var from: String
        public var to: String
        public var kind: Kind
        public var bytes: ByteBuffer
    }

    public struct Settings: Sendable {
        /// Chance that a segment is lost once (and again, after each retransmission).
        public var loss = 0.0
        /// Up to this fraction of a link's latency is added to each segment at random.
        public var jitter = 0.2
        /// The first retransmission's delay (Linux's minimum RTO); it doubles for each further loss.
        public var retransmitTimeout = TimeAmount.milliseconds(200)
        /// How long a dial into a silent cut waits before it fails (the TCP transport's connect timeout).
        public var connectTimeout = TimeAmount.seconds(5)
        /// One-way latency between two hosts that have no latency of their own (clients and servers).
        public var defaultLatency = TimeAmount.milliseconds(1)

        public init() {}
    }

    public let loop: EmbeddedEventLoop
    public var settings: Settings
    /// Called for every delivery (the scaling study counts messages and hops with it).
    public var observer: ((Delivery) -> Void)?
    private var random: SeededRandom
    private var latencies: [HostPair: TimeAmount] = [:]
    private var cuts: [HostPair: CutMode] = [:]
    private var listeners: [Endpoint: Listener] = [:]
    private var connections: [HostPair: [ObjectIdentifier: SimulatedConnection]] = [:]
    private var addresses: [String: SocketAddress] = [:]

    public init(loop: EmbeddedEventLoop, seed: UInt64, settings: Settings = Settings()) {
        self.loop = loop
        self.settings = settings
        self.random = SeededRandom(seed: seed, stream: 0x6E65_7477)
    }

    // MARK: Links

    /// Sets the one-way latency between two hosts.
    public func setLatency(_ latency: TimeAmount, between first: String, and second: String) {
        latencies[HostPair(first, second)] = latency
    }

    func latency(_ pair: HostPair) -> TimeAmount {
        latencies[pair] ?? settings.defaultLatency
    }

    /// Cuts the link between two hosts until ``heal(_:_:)``.
    public func cut(_ first: String, _ second: String, mode: CutMode) {
        let pair = HostPair(first, second)
        cuts[pair] = mode
        if mode == .reset {
            for connection in connections[pair]?.values.map({ $0 }) ?? [] { connection.reset() }
        }
    }

    /// Heals a cut: held segments are retransmitted (they arrive a retransmission timeout later).
    public func heal(_ first: String, _ second: String) {
        let pair = HostPair(first, second)
        guard cuts.removeValue(forKey: pair) != nil else { return }
        for connection in connections[pair]?.values.map({ $0 }) ?? [] {
            connection.retransmitHeld(after: settings.retransmitTimeout)
        }
    }

    /// Heals every cut.
    public func healAll() {
        for pair in Array(cuts.keys) { heal(pair.first, pair.second) }
    }

    func cutMode(_ pair: HostPair) -> CutMode? { cuts[pair] }

    // MARK: Segments

    /// When a segment sent now over `pair` arrives, given the previous one on the same direction
    /// (`notBefore`): latency, jitter and any retransmissions.
    func arrival(over pair: HostPair, notBefore: NIODeadline, extra: TimeAmount = .zero) -> NIODeadline {
        let base = latency(pair)
        var delay = base + .nanoseconds(Int64(Double(base.nanoseconds) * settings.jitter * random.fraction())) + extra
        var timeout = settings.retransmitTimeout
        while settings.loss > 0 && random.chance(settings.loss) {
            delay = delay + timeout
            timeout = timeout * 2
        }
        return max(loop.now + delay, notBefore)
    }

    /// Segments delivered so far.
    public private(set) var deliveries = 0

    func delivered(_ delivery: Delivery) {
        deliveries += 1
        observer?(delivery)
    }

    // MARK: Listening and dialling

    struct Listener {
        let host: String
        let kind: Kind
        let setup: ConnectionSetup
        let channel: EmbeddedChannel
    }

    func address(of host: String) -> SocketAddress {
        if let address = addresses[host] { return address }
        let address =
            (try? SocketAddress(ipAddress: host, port: 1)) ?? (try! SocketAddress(ipAddress: "127.0.0.1", port: 1))
        addresses[host] = address
        return address
    }

    func listen(on endpoint: Endpoint, host: String, kind: Kind, setup: ConnectionSetup) -> EventLoopFuture<
        any Channel
    > {
        guard listeners[endpoint] == nil else {
            return loop.makeFailedFuture(SimulatedNetworkError.addressInUse(endpoint))
        }
        let channel = EmbeddedChannel(loop: loop)
        listeners[endpoint] = Listener(host: host, kind: kind, setup: setup, channel: channel)
        channel.closeFuture.whenComplete { _ in
            if self.listeners[endpoint]?.channel === channel { self.listeners[endpoint] = nil }
        }
        return loop.makeSucceededFuture(channel)
    }

    /// Opens a connection from `host` to `endpoint`: one round trip, or refused (nobody listens, or a reset
    /// cut), or timed out (a silent cut that does not heal within the connect timeout).
    public func dial(from host: String, to endpoint: Endpoint, kind: Kind, setup: ConnectionSetup) -> EventLoopFuture<
        Void
    > {
        let promise = loop.makePromise(of: Void.self)
        let pair = HostPair(host, endpoint.host)
        let started = loop.now
        // SYN retransmissions into a silent cut, as Linux spaces them.
        func attempt(after delay: TimeAmount, retry: TimeAmount) {
            loop.scheduleTask(in: delay) {
                switch self.cutMode(pair) {
                case .reset?:
                    promise.fail(SimulatedNetworkError.refused(endpoint))
                case .silent?:
                    let next = self.loop.now + retry
                    if next - started >= self.settings.connectTimeout {
                        self.loop.scheduleTask(deadline: started + self.settings.connectTimeout) {
                            promise.fail(SimulatedNetworkError.timedOut(endpoint))
                        }
                    } else {
                        attempt(after: retry, retry: retry * 2)
                    }
                case nil:
                    self.establish(from: host, to: endpoint, kind: kind, setup: setup, promise: promise)
                }
            }
        }
        let roundTrip = latency(pair) * 2
        attempt(after: roundTrip, retry: .seconds(1))
        return promise.futureResult
    }

    private func establish(
        from host: String, to endpoint: Endpoint, kind: Kind, setup: ConnectionSetup, promise: EventLoopPromise<Void>
    ) {
        guard let listener = listeners[endpoint] else {
            return promise.fail(SimulatedNetworkError.refused(endpoint))
        }
        let pair = HostPair(host, listener.host)
        let connection = SimulatedConnection(
            network: self, pair: pair, kind: kind, dialler: host, listener: listener.host)
        let (dialler, accepted) = connection.makeChannels()
        connections[pair, default: [:]][ObjectIdentifier(connection)] = connection
        guard listener.setup.admit(accepted) else {
            connection.reset()
            return promise.fail(SimulatedNetworkError.refused(endpoint))
        }
        do {
            try listener.setup.ready(accepted, ConnectionPeer(remoteDescription: host))
        } catch {
            connection.reset()
            return promise.fail(error)
        }
        do {
            try setup.ready(dialler, ConnectionPeer(remoteDescription: "\(endpoint)"))
        } catch {
            connection.reset()
            return promise.fail(error)
        }
        promise.succeed()
    }

    func forget(_ connection: SimulatedConnection) {
        connections[connection.pair]?[ObjectIdentifier(connection)] = nil
    }

    /// Connections open now (both ends), for tests of the simulator itself.
    public var openConnectionCount: Int {
        connections.values.reduce(0) { $0 + $1.count }
    }
}

/// A pair of hosts, in either order.
struct HostPair: Hashable {
    let first: String
    let second: String

    init(_ a: String, _ b: String) {
        if a <= b {
            first = a
            second = b
        } else {
            first = b
            second = a
        }
    }
}

public enum SimulatedNetworkError: Error, CustomStringConvertible {
    case refused(Endpoint)
    case timedOut(Endpoint)
    case addressInUse(Endpoint)

    public var description: String {
        switch self {
        case .refused(let endpoint): "connection to \(endpoint) refused"
        case .timedOut(let endpoint): "connection to \(endpoint) timed out"
        case .addressInUse(let endpoint): "\(endpoint) is in use"
        }
    }
}
