import Foundation
import HerdKit
import NIOCore
import NIOPosix
import Transports

/// Carries herd lines over Unix domain sockets: for a herd on one machine whose clients are local programs,
/// or whose peer traffic should never touch the network.
///
/// Config endpoints are still `host` and a port; they only name the socket file, which is
/// `<directory>/<host>-<port>.sock` (``socketPath(for:)``), so a server's neighbours find it the same way.
///
/// A transport only opens connections: it binds and dials, then hands each connection, once it is ready for
/// lines, to the ``ConnectionSetup`` the server gave it. Line framing, limits, replies and shutdown are the
/// server's own handlers, which it adds in `setup.ready`, so only the bootstrap differs from TCP. Every
/// connection lives on the event loop the server asks for: that is the loop its lines are handled on.
///
/// Another transport can decorate this one, as TLS decorates TCP; the secured connections are then still
/// Unix socket connections underneath:
///
///     let unix = UnixSocketTransport(directory: "/run/herd")
///     let secured = try TLSTransport(configuration: configuration, base: unix)
public struct UnixSocketTransport: Transport {
    /// Where the socket files live.
    public let directory: String
    public let eventLoopGroup: any EventLoopGroup

    public init(directory: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.directory = directory
        self.eventLoopGroup = group
    }

    /// The socket file that stands for `endpoint`.
    public func socketPath(for endpoint: Endpoint) -> String {
        (directory as NSString).appendingPathComponent("\(endpoint.host)-\(endpoint.port).sock")
    }

    public func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup)
        -> EventLoopFuture<any Channel>
    {
        guard endpoint.port != 0 else {
            return eventLoop.makeFailedFuture(
                UnixSocketError(
                    "\(endpoint): port 0 cannot pick a free socket; give the server a port number (it only names "
                        + "the socket file)"))
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            return eventLoop.makeFailedFuture(
                UnixSocketError("cannot create the socket directory \(directory): \(error.localizedDescription)"))
        }
        // Accepted connections stay on `eventLoop`, with the server that owns them.
        return ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.backlog, value: 256)
            // A last line followed by a half-close must still be answered.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                // Counts the connection against the server's caps (or closes it), then adds its handlers.
                channel.eventLoop.makeCompletedFuture { try TCPTransport.hand(channel, to: setup) }
            }
            // A socket file left by a server that stopped is replaced, as SO_REUSEADDR does for TCP ports.
            .bind(unixDomainSocketPath: socketPath(for: endpoint), cleanupExistingSocketFile: true)
            .map { $0 as any Channel }
    }

    public func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void> {
        let path = socketPath(for: endpoint)
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(unixDomainSocketPath: path)
            .flatMapThrowing { channel in
                do {
                    try setup.ready(channel, ConnectionPeer(remoteDescription: path))
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
            }
    }
}

/// A Unix socket problem, said so a person can fix it.
public struct UnixSocketError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension UnixSocketTransport {
    /// Registers the transport as `unix`, for `transport.clients`, `transport.peers` or both.
    /// Option `directory`: where the socket files go, relative to the config file; default `sockets`.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerTransport("unix") { context, _ in
            try context.options.allowOnly(["directory"])
            let directory =
                try context.options.path("directory")
                ?? ConfigPaths.resolve("sockets", against: context.config.baseDirectory)
            return UnixSocketTransport(directory: directory)
        }
    }
}
