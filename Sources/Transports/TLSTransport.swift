import CoreMetrics
import HerdKit
import Logging
import NIOCore

/// TLS through the system OpenSSL over another transport (TCP unless told otherwise): it puts one
/// ``TLSHandler`` at the bottom of each connection the base transport opens and hands the connection on only
/// once the handshake has finished, with the other side's verified certificate names as its identity.
///
/// A handshake that fails on a listener (a plain-TCP client, an unknown CA, an expired certificate, TLS 1.1)
/// is logged as a warning with OpenSSL's reason and the connection is closed; the listener keeps serving.
public struct TLSTransport: Transport {
    public let configuration: TLSConfiguration
    public let base: any Transport
    private let serverContext: TLSContext?
    private let clientContext: TLSContext
    private let logger: Logger?
    private let endpointName: String

    /// Loads the certificate, key and CA now, so a file problem is a start-up error, not a failed connection.
    ///
    /// - Parameters:
    ///   - base: the transport whose connections are secured.
    ///   - logger: where refused handshakes on a listener are reported (the server's log).
    ///   - endpointName: the endpoint in those reports, as `clients` or `peers`.
    ///   - metrics: where failed handshakes (`herd_tls_handshake_failures_total`) and the certificate's
    ///     expiry (`herd_tls_certificate_expiry_timestamp_seconds`) are reported, by endpoint.
    public init(
        configuration: TLSConfiguration, base: any Transport = TCPTransport(), logger: Logger? = nil,
        endpointName: String = "TLS", metrics: ServerMetrics? = nil
    ) throws(TLSError) {
        self.configuration = configuration
        self.base = base
        self.clientContext = try TLSContext(configuration: configuration, role: .client)
        let canListen = configuration.certificateChainFile != nil && configuration.privateKeyFile != nil
        self.serverContext = canListen ? try TLSContext(configuration: configuration, role: .server) : nil
        self.logger = logger
        self.endpointName = endpointName
        self.handshakeFailures = metrics?.counter("herd_tls_handshake_failures_total", [("endpoint", endpointName)])
        if let metrics, let expiry = (serverContext ?? clientContext).certificateExpiry {
            metrics.gauge("herd_tls_certificate_expiry_timestamp_seconds", [("endpoint", endpointName)])
                .record(expiry.timeIntervalSince1970.rounded())
        }
    }

    private let handshakeFailures: Counter?

    public var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }

    public func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup)
        -> EventLoopFuture<any Channel>
    {
        guard let serverContext else { return eventLoop.makeFailedFuture(TLSError.noCertificate) }
        let configuration = configuration
        let logger = logger
        let endpointName = endpointName
        let failures = handshakeFailures
        let secured = ConnectionSetup(admit: setup.admit) { channel, peer in
            let handler = try Self.secure(channel, ssl: serverContext.makeSSL(), role: .server, configuration)
            handler.handshakeFuture.assumeIsolated().whenComplete { result in
                let identity: PeerIdentity?
                do {
                    identity = try result.get()
                } catch {
                    // The handler closes the connection itself, after the alert that says why has gone out.
                    failures?.increment()
                    logger?.warning(
                        "TLS connection from \(peer.remoteDescription) to the \(endpointName) endpoint refused: \(error)"
                    )
                    return
                }
                do {
                    try setup.ready(
                        channel, ConnectionPeer(remoteDescription: peer.remoteDescription, identity: identity))
                } catch {
                    logger?.warning("TLS connection from \(peer.remoteDescription) could not be served: \(error)")
                    channel.close(promise: nil)
                }
            }
        }
        return base.listen(on: endpoint, eventLoop: eventLoop, setup: secured)
    }

    public func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void> {
        let configuration = configuration
        let clientContext = clientContext
        let failures = handshakeFailures
        let ready = eventLoop.makePromise(of: Void.self)
        let secured = ConnectionSetup { channel, peer in
            let handler = try Self.secure(
                channel, ssl: clientContext.makeSSL(dialling: endpoint.host), role: .client, configuration)
            handler.handshakeFuture.assumeIsolated().whenComplete { result in
                let identity: PeerIdentity?
                do {
                    identity = try result.get()
                } catch {
                    // The handler closes the connection itself, after its alert.
                    failures?.increment()
                    ready.fail(error)
                    return
                }
                do {
                    try setup.ready(
                        channel, ConnectionPeer(remoteDescription: peer.remoteDescription, identity: identity))
                    ready.succeed()
                } catch {
                    channel.close(promise: nil)
                    ready.fail(error)
                }
            }
        }
        base.dial(endpoint, eventLoop: eventLoop, setup: secured).whenFailure { ready.fail($0) }
        return ready.futureResult
    }

    /// Puts a TLS handler at the bottom of `channel`'s pipeline.
    private static func secure(
        _ channel: any Channel, ssl: OpaquePointer, role: TLSContext.Role, _ configuration: TLSConfiguration
    ) throws -> TLSHandler {
        let handler = TLSHandler(
            ssl: ssl, role: role, handshakeTimeout: configuration.handshakeTimeout,
            minimumVersion: configuration.minimumVersion, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        return handler
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
                    configuration: configuration, logger: context.logger, endpointName: kind.rawValue,
                    metrics: context.metrics)
            } catch let error as TLSError {
                throw configuration.configError(for: error, options: context.options)
            }
        }
    }
}
