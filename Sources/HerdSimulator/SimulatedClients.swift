import HerdKit
import NIOCore

/// The clients of a simulation: one connection to each server they talk to (dialled on first use, and
/// again after the server dropped it), `IAMAT` lines pipelined on it, and each `AT` reply matched to its
/// line in order and recorded in the ``History``.
public final class SimulatedClients {
    private let herd: SimulatedHerd
    private let history: History
    private var connections: [String: ClientConnection] = [:]

    public init(herd: SimulatedHerd, history: History) {
        self.herd = herd
        self.history = history
    }

    /// Sends `IAMAT client location time` to `server`.
    public func report(client: String, location: String, time: String, to server: String) {
        let line = "IAMAT \(client) \(location) \(time)"
        history.sent += 1
        if let connection = connections[server], !connection.isClosed {
            connection.send(line)
            return
        }
        let connection = ClientConnection(server: server, history: history)
        connections[server] = connection
        connection.send(line)
        let bound = NIOLoopBound(connection, eventLoop: herd.loop)
        let setup = ConnectionSetup { channel, _ in
            try channel.pipeline.syncOperations.addHandler(bound.value)
        }
        herd.network.dial(
            from: herd.clientHost(0), to: herd.clientEndpoint(of: server), kind: .clients, setup: setup
        ).whenFailure { _ in connection.failed() }
    }
}

/// One client connection: lines wait for it to open, and replies come back in the order of the lines.
final class ClientConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: String
    private let history: History
    private var context: ChannelHandlerContext?
    private var unsent: [String] = []
    private var awaiting = CircularBuffer<String>()
    private var partial: [UInt8] = []
    private(set) var isClosed = false

    init(server: String, history: History) {
        self.server = server
        self.history = history
    }

    func send(_ line: String) {
        guard let context else {
            unsent.append(line)
            return
        }
        awaiting.append(line)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: line + "\n")), promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let lines = unsent
        unsent = []
        for line in lines { send(line) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        partial += bytes.readableBytesView
        while let end = partial.firstIndex(of: UInt8(ascii: "\n")) {
            let reply = String(decoding: partial[..<end], as: UTF8.self)
            partial.removeSubrange(...end)
            let request = awaiting.isEmpty ? nil : awaiting.removeFirst()
            history.replied(server: server, request: request, reply: reply)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        self.context = nil
        history.unanswered += awaiting.count
        awaiting.removeAll()
    }

    /// The dial failed: the lines waiting for it are never answered.
    func failed() {
        isClosed = true
        history.unanswered += unsent.count
        unsent = []
    }
}
