import HerdKit
import NIOCore

/// A client of a herd's client endpoint, for programs that report locations and ask for places.
///
/// Each call opens a connection, sends its commands pipelined, closes its sending side and reads every
/// reply until the server closes, so it works with any transport (`TCPTransport`, TLS, or a user's own).
public struct HerdClient: Sendable {
    public let endpoint: Endpoint
    public let transport: any Transport

    public init(endpoint: Endpoint, transport: any Transport = TCPTransport()) {
        self.endpoint = endpoint
        self.transport = transport
    }

    /// Sends `lines` (each gets a LF) and returns everything the server wrote back, in order.
    public func exchange(_ lines: [String]) async throws -> String {
        let bytes = try await exchange(bytes: Array(lines.map { $0 + "\n" }.joined().utf8))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends `bytes` as they are, half-closes, and returns every byte the server wrote back.
    public func exchange(bytes: [UInt8]) async throws -> [UInt8] {
        let channel = try await Self.connect(to: endpoint, over: transport)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            outbound.finish()
            var received: [UInt8] = []
            for try await buffer in inbound { received += buffer.readableBytesView }
            return received
        }
    }

    /// A connection to `endpoint` over `transport` as an async channel of raw bytes, for clients that keep
    /// one open (run it with `executeThenClose`).
    public static func connect(to endpoint: Endpoint, over transport: any Transport) async throws
        -> NIOAsyncChannel<ByteBuffer, ByteBuffer>
    {
        let eventLoop = transport.eventLoopGroup.next()
        let connected = eventLoop.makePromise(of: NIOAsyncChannel<ByteBuffer, ByteBuffer>.self)
        let setup = ConnectionSetup { channel, _ in
            connected.succeed(
                try NIOAsyncChannel(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(isOutboundHalfClosureEnabled: true)))
        }
        transport.dial(endpoint, eventLoop: eventLoop, setup: setup).whenFailure { connected.fail($0) }
        return try await connected.futureResult.get()
    }

    /// Reports a client's location; returns the server's AT line.
    public func report(client: String, latitude: Double, longitude: Double, time: ClientTime) async throws -> String {
        let location = Self.iso6709(latitude: latitude, longitude: longitude)
        return try await exchange(["IAMAT \(client) \(location) \(time)"])
    }

    /// Asks for up to `bound` places within `radiusKilometres` of a client's last reported location.
    public func places(near client: String, radiusKilometres: Double, bound: Int) async throws -> String {
        try await exchange(["WHATSAT \(client) \(radiusKilometres) \(bound)"])
    }

    /// `+34.068930-118.445127`: ISO 6709 with six decimals and explicit signs.
    public static func iso6709(latitude: Double, longitude: Double) -> String {
        func signed(_ value: Double) -> String {
            let micro = Int64((abs(value) * 1_000_000).rounded())
            let fraction = String(micro % 1_000_000)
            return (value < 0 ? "-" : "+") + String(micro / 1_000_000) + "."
                + String(repeating: "0", count: 6 - fraction.count) + fraction
        }
        return signed(latitude) + signed(longitude)
    }
}
