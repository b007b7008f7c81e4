import HerdKit
import NIOCore
import NIOEmbedded
import Testing

@testable import HerdSimulator

extension Result {
    fileprivate var failureDescription: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}

extension HerdEndToEndTests {
    /// The simulated network keeps TCP's promises (in order on a connection, loss turned into delay) and
    /// breaks links the two ways real ones break.
    @Suite("The simulated network")
    struct SimulatedNetworkTests {
        /// Collects what arrives on a connection, and whether it closed.
        final class Receiver: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            typealias OutboundOut = ByteBuffer
            var received = ""
            var closed = false
            var context: ChannelHandlerContext?

            func handlerAdded(context: ChannelHandlerContext) { self.context = context }
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                received += String(buffer: unwrapInboundIn(data))
            }
            func channelInactive(context: ChannelHandlerContext) { closed = true }
            func send(_ text: String) {
                guard let context else { return }
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
            }
        }

        /// A listener on host B and a connection to it from host A: (the dialler's end, the listener's end).
        private func connect(_ network: SimulatedNetwork) throws -> (Receiver, Receiver) {
            let accepted = Receiver()
            let dialler = Receiver()
            let acceptedBox = NIOLoopBound(accepted, eventLoop: network.loop)
            let diallerBox = NIOLoopBound(dialler, eventLoop: network.loop)
            _ = network.listen(
                on: Endpoint(host: "10.0.0.2", port: 2), host: "10.0.0.2", kind: .peers,
                setup: ConnectionSetup { channel, _ in try channel.pipeline.syncOperations.addHandler(acceptedBox.value)
                })
            var dialled: Result<Void, any Error>?
            network.dial(
                from: "10.0.0.1", to: Endpoint(host: "10.0.0.2", port: 2), kind: .peers,
                setup: ConnectionSetup { channel, _ in try channel.pipeline.syncOperations.addHandler(diallerBox.value)
                }
            ).whenComplete { dialled = $0 }
            network.loop.advanceTime(by: .seconds(1))
            try #require(dialled != nil)
            try dialled!.get()
            return (dialler, accepted)
        }

        @Test("a connection delivers every segment in the order sent, even when a third are lost")
        func inOrderUnderLoss() throws {
            var settings = SimulatedNetwork.Settings()
            settings.loss = 0.3
            let network = SimulatedNetwork(loop: EmbeddedEventLoop(), seed: 7, settings: settings)
            let (dialler, accepted) = try connect(network)
            let lines = (0..<200).map { "line \($0)\n" }
            for line in lines {
                dialler.send(line)
                network.loop.advanceTime(by: .microseconds(100))
            }
            network.loop.advanceTime(by: .seconds(30))
            #expect(accepted.received == lines.joined())
        }

        @Test("a silent cut holds the segments until the heal; a reset cut closes both ends")
        func cuts() throws {
            let network = SimulatedNetwork(loop: EmbeddedEventLoop(), seed: 1)
            let (dialler, accepted) = try connect(network)
            network.cut("10.0.0.1", "10.0.0.2", mode: .silent)
            dialler.send("held\n")
            network.loop.advanceTime(by: .seconds(20))
            #expect(accepted.received == "")
            network.heal("10.0.0.1", "10.0.0.2")
            network.loop.advanceTime(by: .seconds(1))
            #expect(accepted.received == "held\n")
            #expect(!dialler.closed && !accepted.closed)

            network.cut("10.0.0.2", "10.0.0.1", mode: .reset)
            network.loop.advanceTime(by: .milliseconds(10))
            #expect(dialler.closed && accepted.closed)
            #expect(network.openConnectionCount == 0)
        }

        /// Dials `host` port 2 from 10.0.0.1 with no handlers; the outcome once it is known: "connected", or
        /// the failure's description.
        private final class DialOutcome {
            var text: String?
        }

        private func dial(_ network: SimulatedNetwork, to host: String) -> DialOutcome {
            let outcome = DialOutcome()
            network.dial(
                from: "10.0.0.1", to: Endpoint(host: host, port: 2), kind: .peers, setup: ConnectionSetup { _, _ in }
            ).whenComplete { result in
                outcome.text = (try? result.get()).map { "connected" } ?? result.failureDescription
            }
            return outcome
        }

        @Test("a dial with nobody listening is refused; one into a silent cut times out, and succeeds after a heal")
        func dials() throws {
            let network = SimulatedNetwork(loop: EmbeddedEventLoop(), seed: 1)
            let refused = dial(network, to: "10.0.0.9")
            network.loop.advanceTime(by: .milliseconds(10))
            #expect(refused.text == "connection to 10.0.0.9:2 refused")

            _ = network.listen(
                on: Endpoint(host: "10.0.0.2", port: 2), host: "10.0.0.2", kind: .peers,
                setup: ConnectionSetup { _, _ in })
            network.cut("10.0.0.1", "10.0.0.2", mode: .silent)
            let timedOut = dial(network, to: "10.0.0.2")
            network.loop.advanceTime(by: .seconds(6))
            #expect(timedOut.text == "connection to 10.0.0.2:2 timed out")

            let healed = dial(network, to: "10.0.0.2")
            network.loop.advanceTime(by: .milliseconds(500))
            #expect(healed.text == nil)
            network.heal("10.0.0.1", "10.0.0.2")
            network.loop.advanceTime(by: .seconds(2))
            #expect(healed.text == "connected")
        }
    }
}
