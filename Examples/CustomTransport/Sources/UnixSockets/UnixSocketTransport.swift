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
/// Line framing, limits and shutdown are herd's own (`NIOLineConnection`, `NIOLineListener`): only the
/// bootstrap differs from TCP.
public struct UnixSocketTransport: Transport {
    /// Where the socket files live.
    public let directory: String
    let group: any EventLoopGroup

    public init(directory: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.directory = directory
        self.group = group
    }

    /// The socket file that stands for `endpoint`.
    public func socketPath(for endpoint: Endpoint) -> String {
        (directory as NSString).appendingPathComponent("\(endpoint.host)-\(endpoint.port).sock")
    }

    public func listen(on endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Listener {
        guard endpoint.port != 0 else {
            throw UnixSocketError(
                "\(endpoint): port 0 cannot pick a free socket; give the server a port number (it only names the "
                    + "socket file)")
        }
        let path = socketPath(for: endpoint)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw UnixSocketError("cannot create the socket directory \(directory): \(error.localizedDescription)")
        }
        let accepted = AcceptedChannels()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // A socket file left by a server that stopped is replaced, as SO_REUSEADDR does for TCP ports.
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { child in
                // Tracked until handed over, so a connection accepted while the server stops is closed properly.
                child.eventLoop.makeCompletedFuture {
                    accepted.track(try NIOLineConnection.makeLineChannel(child, limits: limits))
                }
            }
        return NIOLineListener(channel: channel, localEndpoint: endpoint, accepted: accepted)
    }

    public func dial(_ endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Connection {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(unixDomainSocketPath: socketPath(for: endpoint)) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOLineConnection.makeLineChannel(channel, limits: limits) }
            }
        return NIOLineConnection(channel: channel)
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
