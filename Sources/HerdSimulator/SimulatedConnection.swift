import NIOCore
import NIOEmbedded

/// One TCP connection of the simulated network: two `EmbeddedChannel`s (the dialler's and the listener's),
/// each with a ``SimulatedWire`` at the bottom of its pipeline, and for each direction the segments in
/// flight, delivered in the order they were sent.
final class SimulatedConnection {
    /// One side: its channel, and what it has sent that has not arrived yet.
    final class End {
        let host: String
        var channel: EmbeddedChannel!
        /// False once this side closed (or was reset): it sends nothing more and takes nothing more.
        var open = true
        var inFlight = CircularBuffer<Segment>()
        var lastArrival = NIODeadline.uptimeNanoseconds(0)
        /// Bumped when the segments in flight are rescheduled (a heal), so the earlier deliveries do nothing.
        var generation = 0

        init(host: String) {
            self.host = host
        }
    }

    enum Segment {
        case bytes(ByteBuffer)
        /// The sender closed: the other side's channel closes once the data before it has arrived.
        case close
    }

    unowned let network: SimulatedNetwork
    let pair: HostPair
    let kind: SimulatedNetwork.Kind
    let ends: [End]

    init(network: SimulatedNetwork, pair: HostPair, kind: SimulatedNetwork.Kind, dialler: String, listener: String) {
        self.network = network
        self.pair = pair
        self.kind = kind
        self.ends = [End(host: dialler), End(host: listener)]
    }

    /// The dialler's channel and the listener's, both active.
    func makeChannels() -> (EmbeddedChannel, EmbeddedChannel) {
        for side in 0..<2 {
            let channel = EmbeddedChannel(loop: network.loop)
            try! channel.pipeline.syncOperations.addHandler(SimulatedWire(connection: self, side: side))
            channel.connect(to: network.address(of: ends[1 - side].host), promise: nil)
            ends[side].channel = channel
        }
        return (ends[0].channel, ends[1].channel)
    }

    func send(_ bytes: ByteBuffer, from side: Int) {
        guard ends[side].open else { return }
        enqueue(.bytes(bytes), from: side)
    }

    /// `side` closed its channel.
    func closed(by side: Int) {
        guard ends[side].open else { return }
        ends[side].open = false
        enqueue(.close, from: side)
        forgetIfDone()
    }

    /// Both sides are closed at once and what was in flight is lost (a reset, or a listener that refused).
    func reset() {
        for end in ends where end.open {
            end.open = false
            end.inFlight.removeAll()
            end.generation += 1
            end.channel.close(promise: nil)
        }
        network.forget(self)
    }

    /// After a heal: what was held arrives, each segment a retransmission timeout later, in order.
    func retransmitHeld(after timeout: TimeAmount) {
        for side in 0..<2 {
            let end = ends[side]
            end.generation += 1
            let held = end.inFlight
            end.inFlight.removeAll()
            for segment in held { schedule(segment, from: side, extra: timeout) }
        }
    }

    private func enqueue(_ segment: Segment, from side: Int) {
        if network.cutMode(pair) == .silent {
            // Held until the heal reschedules it.
            ends[side].inFlight.append(segment)
            return
        }
        schedule(segment, from: side, extra: .zero)
    }

    private func schedule(_ segment: Segment, from side: Int, extra: TimeAmount) {
        let end = ends[side]
        let arrival = network.arrival(over: pair, notBefore: end.lastArrival, extra: extra)
        end.lastArrival = arrival
        end.inFlight.append(segment)
        let generation = end.generation
        network.loop.scheduleTask(deadline: arrival) { self.deliverNext(from: side, generation: generation) }
    }

    private func deliverNext(from side: Int, generation: Int) {
        let end = ends[side]
        guard end.generation == generation, network.cutMode(pair) != .silent, let segment = end.inFlight.first
        else { return }
        end.inFlight.removeFirst()
        let receiver = ends[1 - side]
        guard receiver.open else { return }
        switch segment {
        case .bytes(let bytes):
            network.delivered(.init(from: end.host, to: receiver.host, kind: kind, bytes: bytes))
            receiver.channel.pipeline.fireChannelRead(NIOAny(bytes))
            receiver.channel.pipeline.fireChannelReadComplete()
        case .close:
            receiver.open = false
            receiver.channel.close(promise: nil)
            forgetIfDone()
        }
    }

    private func forgetIfDone() {
        if !ends[0].open && !ends[1].open { network.forget(self) }
    }
}

/// The bottom of a simulated channel's pipeline: takes the bytes the handlers above write, and hands each
/// flush to the network as one segment; a close becomes the other side's close.
final class SimulatedWire: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: SimulatedConnection
    private let side: Int
    private var buffered: ByteBuffer?

    init(connection: SimulatedConnection, side: Int) {
        self.connection = connection
        self.side = side
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {
        guard let bytes = buffered else { return }
        buffered = nil
        connection.send(bytes, from: side)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        buffered = nil
        connection.closed(by: side)
        context.close(mode: .all, promise: promise)
    }
}
