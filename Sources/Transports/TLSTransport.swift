import HerdKit
import Logging
import NIOCore
import NIOPosix

/// TLS through the system OpenSSL, on the same SwiftNIO channels as ``TCPTransport``: the only difference is
/// a ``TLSHandler`` at the bottom of each pipeline. A connection is handed over only once its handshake has
/// finished, so its ``Connection/peerIdentity`` already holds the other side's verified certificate names.
///
/// A handshake that fails on a listener (a plain-TCP client, an unknown CA, an expired certificate, TLS 1.1)
/// is logged as a warning with OpenSSL's reason and the connection is closed; the listener keeps serving.
public struct TLSTransport: Transport {
    let group: any EventLoopGroup
    public let configuration: TLSConfiguration
    private let serverContext: TLSContext?
    private let clientContext: TLSContext
    private let logger: Logger?
    private let endpointName: String

    /// Loads the certificate, key and CA now, so a file problem is a start-up error, not a failed connection.
    ///
    /// - Parameters:
    ///   - logger: where refused handshakes on a listener are reported (the server's log).
    ///   - endpointName: the endpoint in those reports, as `clients` or `peers`.
    public init(
        configuration: TLSConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil, endpointName: String = "TLS"
    ) throws(TLSError) {
        self.group = group
        self.configuration = configuration
        self.clientContext = try TLSContext(configuration: configuration, role: .client)
        let canListen = configuration.certificateChainFile != nil && configuration.privateKeyFile != nil
        self.serverContext = canListen ? try TLSContext(configuration: configuration, role: .server) : nil
        self.logger = logger
        self.endpointName = endpointName
    }

    public func listen(on endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Listener {
        guard let serverContext else { throw TLSError.noCertificate }
        let timeout = configuration.handshakeTimeout
        let minimumVersion = configuration.minimumVersion
        let accepted = AcceptedChannels()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: endpoint.host, port: endpoint.port) { child in
                child.eventLoop.makeCompletedFuture {
                    let child = try Self.setUp(
                        child, ssl: serverContext.makeSSL(), role: .server, timeout: timeout,
                        minimumVersion: minimumVersion, limits: limits)
                    _ = accepted.track(child.channel)
                    return child
                }
            }
        let port = channel.channel.localAddress?.port ?? endpoint.port
        let logger = logger
        let endpointName = endpointName
        let local = Endpoint(host: endpoint.host, port: port)
        return NIOLineListener(channel: channel, localEndpoint: local, accepted: accepted) { child in
            accepted.handOver(child.channel)
            do {
                let identity = try await child.handshakeCompleted()
                return NIOLineConnection(channel: child.channel, peerIdentity: identity)
            } catch {
                if !Task.isCancelled {
                    logger?.warning(
                        "TLS connection from \(child.remote) to the \(endpointName) endpoint refused: \(error)")
                }
                // An NIOAsyncChannel must be run (and so finished) once; this closes it.
                try? await child.channel.executeThenClose { _, _ in }
                return nil
            }
        }
    }

    public func dial(_ endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Connection {
        let timeout = configuration.handshakeTimeout
        let minimumVersion = configuration.minimumVersion
        let clientContext = clientContext
        let child = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.setUp(
                        channel, ssl: clientContext.makeSSL(dialling: endpoint.host), role: .client, timeout: timeout,
                        minimumVersion: minimumVersion, limits: limits)
                }
            }
        do {
            let identity = try await child.handshakeCompleted()
            return NIOLineConnection(channel: child.channel, peerIdentity: identity)
        } catch {
            try? await child.channel.executeThenClose { _, _ in }
            throw error
        }
    }

    /// A TLS line channel whose handshake may still be running.
    struct Child: Sendable {
        let channel: NIOAsyncChannel<InboundEvent, ByteBuffer>
        let handshake: EventLoopFuture<PeerIdentity?>
        let remote: String

        /// Waits for the handshake; cancelling the wait closes the connection (a server that is stopping
        /// does not wait out a slow client's handshake).
        func handshakeCompleted() async throws -> PeerIdentity? {
            try await withTaskCancellationHandler {
                try await handshake.get()
            } onCancel: {
                channel.channel.close(promise: nil)
            }
        }
    }

    /// The pipeline: TLS at the bottom, then the handlers every line connection has.
    private static func setUp(
        _ channel: any Channel, ssl: OpaquePointer, role: TLSContext.Role, timeout: Duration,
        minimumVersion: TLSConfiguration.Version, limits: ConnectionLimits
    ) throws -> Child {
        let handler = TLSHandler(
            ssl: ssl, role: role, handshakeTimeout: timeout, minimumVersion: minimumVersion,
            eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(handler)
        try NIOLineConnection.addLineHandlers(to: channel, limits: limits)
        return Child(
            channel: try NIOLineConnection.wrap(channel), handshake: handler.handshakeFuture,
            remote: channel.remoteAddress.map(NIOLineConnection.describe) ?? "unknown")
    }
}

extension TLSTransport {
    /// Registers `tls` for both endpoint kinds. See ``TLSConfiguration/init(options:serverName:kind:)`` for its
    /// options; a missing, unreadable or mismatched file is a config error naming the option's key.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerTransport("tls") { context, kind in
            let configuration = try TLSConfiguration(
                options: context.options, serverName: context.serverName, kind: kind)
            do {
                return try TLSTransport(
                    configuration: configuration, logger: context.logger, endpointName: kind.rawValue)
            } catch let error as TLSError {
                throw configuration.configError(for: error, options: context.options)
            }
        }
    }
}
