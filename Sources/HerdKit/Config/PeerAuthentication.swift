import Foundation

/// How the neighbours of a herd prove who they are on a peer link (Docs/threat-model.md).
public enum PeerAuthentication: Sendable, Hashable {
    /// A shared secret, read from the environment or a file the config names, proven in the hello.
    case secret(PeerKeys)
    /// No secret named, and every server is on a loopback address: the servers of this machine share one
    /// they make in `<data_dir>/peer.secret` (readable by its owner only) when the first of them starts.
    case machineSecret
    /// The peer transport authenticates them (TLS certificates), or the herd has no links.
    case transport
    /// The config says `peer_links.authentication: none`: anyone who reaches a peer port can send updates.
    case none

    /// The file a ``machineSecret`` lives in.
    public static func machineSecretPath(dataDirectory: String) -> String {
        ConfigPaths.resolve("peer.secret", against: dataDirectory)
    }
}

extension HerdConfig {
    /// The secrets this server's links prove, making the machine's secret when it is the first server of
    /// the machine to start; nil when links do not prove a secret.
    public func peerKeys() throws(ConfigError) -> PeerKeys? {
        switch peerAuthentication {
        case .secret(let keys): return keys
        case .transport, .none: return nil
        case .machineSecret: return PeerKeys(current: try MachineSecret.readOrMake(config: self))
        }
    }
}

/// The secret the servers of one machine share when the config names none (``PeerAuthentication/machineSecret``).
enum MachineSecret {
    static func readOrMake(config: HerdConfig) throws(ConfigError) -> PeerSecret {
        let path = PeerAuthentication.machineSecretPath(dataDirectory: config.dataDirectory)
        func failure(_ reason: String) -> ConfigError {
            ConfigError(file: config.source, key: "data_dir", reason: "the herd's peer secret \(path): \(reason)")
        }
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            do {
                try manager.createDirectory(
                    atPath: config.dataDirectory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw failure("cannot make its directory: \(error.localizedDescription)")
            }
            // Written whole to a file of its own, then linked into place: of servers starting at once, one
            // link wins and the others read what it wrote, never half of it.
            let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
            let made = manager.createFile(
                atPath: temporary, contents: Data(PeerSecret.random().text.utf8),
                attributes: [.posixPermissions: 0o600])
            guard made else { throw failure("cannot write \(temporary)") }
            let linked = link(temporary, path)
            let linkError = errno
            unlink(temporary)
            if linked != 0 && linkError != EEXIST {
                throw failure("cannot create it: \(String(cString: strerror(linkError)))")
            }
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw failure("cannot read it: \(error.localizedDescription)")
        }
        guard let secret = PeerSecret(text: text) else {
            throw failure("holds fewer than \(PeerSecret.minimumBytes) bytes; delete it to make a new one")
        }
        return secret
    }
}

/// Reads `peer_links`' authentication keys.
struct PeerAuthenticationReader {
    let options: ConfigOptions
    let servers: [HerdConfig.Server]
    let links: [HerdConfig.Link]
    let peerTransport: String

    func read() throws(ConfigError) -> PeerAuthentication {
        let mode = try options.string("authentication") ?? "secret"
        guard mode == "secret" || mode == "none" else {
            throw options.error("authentication", "expected secret or none, got '\(mode)'")
        }
        let current = try secret(environmentKey: "secret_env", fileKey: "secret_file")
        // An unset or empty variable for the previous secret means the rotation is over, so the config
        // need not change between its steps.
        let previous = try secret(
            environmentKey: "previous_secret_env", fileKey: "previous_secret_file", unsetIsNone: true)
        if mode == "none" {
            guard current == nil && previous == nil else {
                throw options.error("authentication", "is none, yet a secret is named too; remove one of them")
            }
            return .none
        }
        if let current { return .secret(PeerKeys(current: current, previous: previous)) }
        if previous != nil {
            throw options.error(
                "previous_secret_file", "names the secret being replaced; name the new one in secret_file or secret_env"
            )
        }
        if links.isEmpty || peerTransport == "tls" { return .transport }
        if servers.allSatisfy({ Self.isLoopback($0.host) }) { return .machineSecret }
        let remote = servers.first { !Self.isLoopback($0.host) }!
        throw options.error(
            "secret_file",
            "missing: peers link over \(peerTransport) across hosts (\(remote.name) is at \(remote.host)), so they must "
                + "prove a shared secret; name a file holding one (make it with `openssl rand -hex 32`) in "
                + "peer_links.secret_file, or a variable in peer_links.secret_env, or say "
                + "peer_links.authentication: none to accept updates from anyone who reaches a peer port")
    }

    private func secret(environmentKey: String, fileKey: String, unsetIsNone: Bool = false) throws(ConfigError)
        -> PeerSecret?
    {
        let variable = try options.string(environmentKey)
        let file = try options.path(fileKey)
        if variable != nil && file != nil {
            throw options.error(fileKey, "give the secret in \(environmentKey) or \(fileKey), not both")
        }
        let short = "is shorter than \(PeerSecret.minimumBytes) bytes; make one with `openssl rand -hex 32`"
        if let variable {
            let value = ProcessInfo.processInfo.environment[variable]
            if unsetIsNone && (value ?? "").isEmpty { return nil }
            guard let text = value else {
                throw options.error(environmentKey, "the environment variable \(variable) is not set")
            }
            guard let secret = PeerSecret(text: text) else {
                throw options.error(environmentKey, "the secret in \(variable) \(short)")
            }
            return secret
        }
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw options.error(fileKey, "cannot read \(file): \(error.localizedDescription)")
            }
            guard let secret = PeerSecret(text: text) else {
                throw options.error(fileKey, "the secret in \(file) \(short)")
            }
            return secret
        }
        return nil
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
