import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// N Linux network namespaces joined by a bridge, each with its own address in a /24 of 10.0.0.0/8, for a
/// herd spread over "hosts" whose links can be cut: ``cut(_:_:_:)`` adds iptables rules to both namespaces'
/// own tables, ``heal(_:_:)`` removes them.
///
/// The bridge has an address in the subnet too (``hostAddress``), so the test process, in the root namespace,
/// reaches every namespace's address directly; cuts never touch that path, only traffic between namespaces.
///
/// Names are unique per run (`herdns-<run>-<pid>-<index>`, bridge `hb-<run>`, veths `hv-<run>-<index>` on the
/// bridge and `hp-<run>-<index>` inside), so parallel runs do not collide, and a run that died before its clean
/// up is swept by the next one (its process id is gone). Needs root, `ip` and `iptables`: see
/// ``unavailableReason()``.
public actor NetworkNamespaces {
    /// How a cut link fails. `drop`: every packet is lost silently; a connection seems up until TCP gives up,
    /// and carries on if the cut heals first. `reset`: every TCP segment is answered with a reset, so the side
    /// that sends learns at once that its connection is gone (and a connect is refused), while a side that
    /// sends nothing learns nothing, as when a peer or a middlebox has lost the connection's state.
    public enum Cut: String, Sendable, CaseIterable {
        case drop, reset
    }

    public nonisolated let runID: String
    /// The namespaces, by index.
    public nonisolated let names: [String]
    /// The address of each namespace, by index.
    public nonisolated let addresses: [String]
    /// The bridge's own address: the root namespace's address in the subnet.
    public nonisolated let hostAddress: String
    public nonisolated let bridge: String
    private nonisolated let ip: String
    private nonisolated let iptables: String
    private var cuts: [Pair: Cut] = [:]
    private var created: (bridge: Bool, namespaces: Int) = (false, 0)
    private var tornDown = false

    private struct Pair: Hashable {
        let low: Int
        let high: Int
        init(_ a: Int, _ b: Int) { (low, high) = (min(a, b), max(a, b)) }
    }

    private static let prefix = "herdns-"

    private init(count: Int, ip: String, iptables: String) throws {
        precondition((1...250).contains(count), "1 to 250 namespaces")
        let runID = String(format: "%06x", UInt32.random(in: 0..<(1 << 24)))
        self.runID = runID
        self.ip = ip
        self.iptables = iptables
        let pid = getpid()
        names = (0..<count).map { "\(Self.prefix)\(runID)-\(pid)-\($0)" }
        bridge = "hb-\(runID)"
        let subnet = try Self.freeSubnet()
        addresses = (0..<count).map { "\(subnet).\($0 + 1)" }
        hostAddress = "\(subnet).254"
    }

    // MARK: Availability

    /// Why namespaces cannot be made here (not root, no `ip` or `iptables`, `ip netns add` refused, no
    /// netfilter inside a namespace, no veth or bridge), or nil when they can: a probe namespace, veth pair and
    /// bridge are made and removed again.
    public static func unavailableReason() async -> String? {
        guard geteuid() == 0 else { return "network namespaces need root (euid \(geteuid()))" }
        guard let ip = HostCommand.find("ip") else { return "no ip(8) (iproute2) on this machine" }
        guard let iptables = HostCommand.find("iptables") else {
            return "no iptables on this machine (apt-get install -y iptables)"
        }
        let run = String(format: "%06x", UInt32.random(in: 0..<(1 << 24)))
        let namespace = "\(prefix)\(run)-\(getpid())-probe"
        do {
            try await HostCommand.check([ip, "netns", "add", namespace])
        } catch {
            return "cannot create a network namespace: \(error)"
        }
        var filtering: (any Error)?
        do {
            try await HostCommand.check([ip, "netns", "exec", namespace, iptables, "-w", "5", "-S"])
        } catch {
            filtering = error
        }
        _ = try? await HostCommand.run([ip, "netns", "del", namespace])
        if let filtering { return "iptables does not work inside a network namespace: \(filtering)" }
        do {
            try await HostCommand.check([
                ip, "link", "add", "hv-\(run)-p", "type", "veth", "peer", "name", "hp-\(run)-p",
            ])
            _ = try? await HostCommand.run([ip, "link", "del", "hv-\(run)-p"])
            try await HostCommand.check([ip, "link", "add", "hb-\(run)", "type", "bridge"])
            _ = try? await HostCommand.run([ip, "link", "del", "hb-\(run)"])
        } catch {
            return "cannot create veth pairs or bridges: \(error)"
        }
        return nil
    }

    // MARK: Set-up

    /// Makes `count` namespaces on a new bridge and checks that they reach each other; on any failure removes
    /// what it made and throws.
    public static func create(count: Int) async throws -> NetworkNamespaces {
        guard let ip = HostCommand.find("ip"), let iptables = HostCommand.find("iptables") else {
            throw HarnessError("network namespaces need ip and iptables")
        }
        await sweepStale(ip: ip)
        let namespaces = try NetworkNamespaces(count: count, ip: ip, iptables: iptables)
        do {
            try await namespaces.setUp()
            try await namespaces.verifyConnectivity()
        } catch {
            await namespaces.tearDown()
            throw error
        }
        return namespaces
    }

    private func setUp() async throws {
        try await HostCommand.check([ip, "link", "add", bridge, "type", "bridge"])
        created.bridge = true
        try await HostCommand.check([ip, "addr", "add", "\(hostAddress)/24", "dev", bridge])
        try await HostCommand.check([ip, "link", "set", bridge, "up"])
        for (index, namespace) in names.enumerated() {
            let outside = "hv-\(runID)-\(index)"
            let inside = "hp-\(runID)-\(index)"
            try await HostCommand.check([ip, "netns", "add", namespace])
            created.namespaces = index + 1
            try await HostCommand.check([ip, "link", "add", outside, "type", "veth", "peer", "name", inside])
            try await HostCommand.check([ip, "link", "set", inside, "netns", namespace])
            try await HostCommand.check([ip, "link", "set", outside, "master", bridge, "up"])
            try await HostCommand.check([ip, "-n", namespace, "addr", "add", "\(addresses[index])/24", "dev", inside])
            try await HostCommand.check([ip, "-n", namespace, "link", "set", inside, "up"])
            try await HostCommand.check([ip, "-n", namespace, "link", "set", "lo", "up"])
        }
    }

    /// A /24 of 10.0.0.0/8 that no address or route of this machine uses, as `10.a.b`.
    private static func freeSubnet() throws -> String {
        let used = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
        let addresses = (try? String(contentsOfFile: "/proc/net/fib_trie", encoding: .utf8)) ?? ""
        for _ in 0..<50 {
            let a = Int.random(in: 200...250)
            let b = Int.random(in: 0...255)
            let subnet = "10.\(a).\(b)"
            // /proc/net/route holds destinations as little-endian hex: 10.a.b.0 is 00 b a 0A.
            let hex = String(format: "00%02X%02X0A", b, a)
            if !used.contains(hex) && !addresses.contains(subnet + ".") { return subnet }
        }
        throw HarnessError("no free 10.x.y.0/24 subnet found")
    }

    /// Removes the namespaces and bridges of earlier runs whose process has gone (a test process that crashed
    /// or was killed before its clean-up), and kills what still runs inside them.
    private static func sweepStale(ip: String) async {
        guard let list = try? await HostCommand.run([ip, "netns", "list"]), list.succeeded else { return }
        var runs: Set<String> = []
        for line in list.output.split(separator: "\n") {
            guard let name = line.split(separator: " ").first.map(String.init), name.hasPrefix(prefix) else {
                continue
            }
            let parts = name.dropFirst(prefix.count).split(separator: "-")
            guard parts.count == 3, let pid = pid_t(parts[1]) else { continue }
            guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            // Servers the dead run left inside would keep the namespace (and their ports) alive.
            if let pids = try? await HostCommand.run([ip, "netns", "pids", name]), pids.succeeded {
                for inside in pids.output.split(separator: "\n").compactMap({ pid_t($0) }) { kill(inside, SIGKILL) }
            }
            _ = try? await HostCommand.run([ip, "netns", "del", name])
            runs.insert(String(parts[0]))
        }
        guard !runs.isEmpty else { return }
        // A namespace outlives its name while a socket of it lingers (a killed server's unacknowledged data
        // behind a cut link), and with it the veth: delete the veths, then the bridges.
        let links = (try? await HostCommand.run([ip, "-o", "link", "show"]))?.output ?? ""
        for line in links.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = String(fields[1].prefix { $0 != "@" && $0 != ":" })
            if runs.contains(where: { name.hasPrefix("hv-\($0)-") }) {
                _ = try? await HostCommand.run([ip, "link", "del", name])
            }
        }
        for run in runs { _ = try? await HostCommand.run([ip, "link", "del", "hb-\(run)"]) }
        // And the scratch directories of their herds (``NamespaceHerd`` names them after the run).
        let temporary = FileManager.default.temporaryDirectory
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        where runs.contains(where: { entry.hasPrefix("\(NamespaceHerd.directoryPrefix)\($0)-") }) {
            try? FileManager.default.removeItem(at: temporary.appendingPathComponent(entry))
        }
    }

    /// Checks that the root namespace reaches every namespace and each namespace its successor, by connecting
    /// to a port nobody listens on: an answer (connection refused) proves the path, silence does not. Skipped
    /// without bash (it makes the connection).
    public func verifyConnectivity() async throws {
        guard let bash = HostCommand.find("bash") else { return }
        func probe(from namespace: String?, to address: String) async throws {
            let connect = [bash, "-c", "exec 3<>/dev/tcp/\(address)/9"]
            let command = namespace.map { [ip, "netns", "exec", $0] + connect } ?? connect
            let result = try await HostCommand.run(command, timeout: .seconds(5))
            guard !result.succeeded, result.error.localizedCaseInsensitiveContains("refused") else {
                throw HarnessError(
                    "\(namespace ?? "the root namespace") cannot reach \(address) over bridge \(bridge) "
                        + "(status \(result.status): \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))); "
                        + "is bridged traffic filtered (net.bridge.bridge-nf-call-iptables and the FORWARD policy)?")
            }
        }
        for address in addresses { try await probe(from: nil, to: address) }
        for index in names.indices where names.count > 1 {
            try await probe(from: names[index], to: addresses[(index + 1) % names.count])
        }
    }

    // MARK: Commands inside

    /// The command prefix that runs a program inside namespace `index` (it execs the program in its place).
    public nonisolated func launcher(_ index: Int) -> [String] {
        [ip, "netns", "exec", names[index]]
    }

    /// Runs `arguments` inside namespace `index`.
    public func run(_ index: Int, _ arguments: [String], timeout: Duration = .seconds(10)) async throws
        -> HostCommand.Result
    {
        try await HostCommand.run(launcher(index) + arguments, timeout: timeout)
    }

    // MARK: Cutting and healing links

    /// Cuts the link between namespaces `a` and `b`: each drops (or resets) what comes from the other, in
    /// its own tables (see ``Cut``). Traffic with the root namespace is untouched.
    public func cut(_ a: Int, _ b: Int, _ how: Cut = .drop) async throws {
        precondition(a != b && names.indices.contains(a) && names.indices.contains(b))
        let pair = Pair(a, b)
        guard cuts[pair] == nil else { return }
        cuts[pair] = how
        for rule in rules(pair, how) {
            try await HostCommand.check(launcher(rule.namespace) + [iptables, "-w", "5", "-A"] + rule.spec)
        }
    }

    /// Heals the link between `a` and `b` (nothing if it is not cut).
    public func heal(_ a: Int, _ b: Int) async throws {
        let pair = Pair(a, b)
        guard let how = cuts.removeValue(forKey: pair) else { return }
        for rule in rules(pair, how).reversed() {
            try await HostCommand.check(launcher(rule.namespace) + [iptables, "-w", "5", "-D"] + rule.spec)
        }
    }

    /// Heals every cut link.
    public func healAll() async throws {
        for pair in cuts.keys.sorted(by: { ($0.low, $0.high) < ($1.low, $1.high) }) {
            try await heal(pair.low, pair.high)
        }
    }

    /// The links cut now, as index pairs (lower first).
    public var cutLinks: [(Int, Int, Cut)] {
        cuts.map { ($0.key.low, $0.key.high, $0.value) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// The rules of a cut, in the order they are appended (and deleted in reverse). `drop`: each side drops
    /// everything from and to the other. `reset`: each side answers every TCP segment from the other with a
    /// reset (and lets the other's resets in, or its own answers would be rejected in turn), dropping the rest.
    private func rules(_ pair: Pair, _ how: Cut) -> [(namespace: Int, spec: [String])] {
        [(pair.low, pair.high), (pair.high, pair.low)].flatMap { here, there -> [(namespace: Int, spec: [String])] in
            let from = ["INPUT", "-s", addresses[there]]
            switch how {
            case .drop:
                return [(here, from + ["-j", "DROP"]), (here, ["OUTPUT", "-d", addresses[there], "-j", "DROP"])]
            case .reset:
                return [
                    (here, from + ["-p", "tcp", "--tcp-flags", "RST", "RST", "-j", "ACCEPT"]),
                    (here, from + ["-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"]),
                    (here, from + ["-j", "DROP"]),
                ]
            }
        }
    }

    // MARK: Tear-down

    /// Deletes every namespace (and with it its rules and its end of each veth), every veth and the bridge.
    /// Bounded (each command at most 10 s), safe to call more than once. Stop the processes inside first.
    public func tearDown() async {
        guard !tornDown else { return }
        tornDown = true
        cuts = [:]
        for index in 0..<created.namespaces {
            _ = try? await HostCommand.run([ip, "netns", "del", names[index]])
            let outside = "hv-\(runID)-\(index)"
            if FileManager.default.fileExists(atPath: "/sys/class/net/\(outside)") {
                _ = try? await HostCommand.run([ip, "link", "del", outside])
            }
        }
        if created.bridge { _ = try? await HostCommand.run([ip, "link", "del", bridge]) }
    }
}

/// Runs `body` with `count` new ``NetworkNamespaces`` and tears them down afterwards, also when it throws.
public func withNetworkNamespaces<Result: Sendable>(
    count: Int, isolation: isolated (any Actor)? = #isolation, _ body: (NetworkNamespaces) async throws -> Result
) async throws -> Result {
    let namespaces = try await NetworkNamespaces.create(count: count)
    do {
        let result = try await body(namespaces)
        await namespaces.tearDown()
        return result
    } catch {
        await namespaces.tearDown()
        throw error
    }
}
