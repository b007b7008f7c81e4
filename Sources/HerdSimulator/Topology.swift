import HerdKit

/// The servers of a simulated herd and the links between them.
public struct Topology: Sendable, CustomStringConvertible {
    public var name: String
    public var servers: [String]
    public var links: [HerdConfig.Link]

    public init(name: String, servers: [String], links: [HerdConfig.Link]) {
        self.name = name
        self.servers = servers
        self.links = links
    }

    public var description: String { "\(name) (\(servers.count) servers, \(links.count) links)" }

    /// The 2016 reference herd of PROTOCOL.md section 6, as `herd up` runs it.
    public static var reference: Topology {
        let config = HerdConfig.defaultHerd()
        return Topology(name: "reference", servers: config.servers.map(\.name), links: config.links)
    }

    static func names(_ count: Int) -> [String] {
        (0..<count).map { "S\($0)" }
    }

    /// Each server linked to the next, and the last to the first.
    public static func ring(_ count: Int) -> Topology {
        let servers = names(count)
        let links = (0..<count).compactMap { index -> HerdConfig.Link? in
            let next = (index + 1) % count
            guard next != index, count > 2 || index == 0 else { return nil }
            return HerdConfig.Link(servers[index], servers[next])
        }
        return Topology(name: "ring", servers: servers, links: links)
    }

    /// A balanced binary tree (server i's parent is (i - 1) / 2).
    public static func tree(_ count: Int) -> Topology {
        let servers = names(count)
        let links = (1..<max(count, 1)).map { HerdConfig.Link(servers[($0 - 1) / 2], servers[$0]) }
        return Topology(name: "tree", servers: servers, links: links)
    }

    /// A connected random graph in which every server has `degree` links (one fewer for at most one server
    /// when `count * degree` is odd): random pairings of link ends, redrawn until connected and simple.
    public static func randomRegular(_ count: Int, degree: Int, seed: UInt64) -> Topology {
        precondition(count > degree, "a \(degree)-regular graph needs more than \(degree) servers")
        let servers = names(count)
        var random = SeededRandom(seed: seed, stream: 0x746F_706F)
        for _ in 0..<1000 {
            if let links = pairing(count, degree: degree, random: &random), isConnected(count, links) {
                return Topology(
                    name: "random\(degree)", servers: servers,
                    links: links.map { HerdConfig.Link(servers[$0.0], servers[$0.1]) })
            }
        }
        preconditionFailure("no connected \(degree)-regular graph on \(count) servers found")
    }

    /// A random connected herd: a random spanning tree plus about `extra` links per server more, as users'
    /// herds of a few regions look.
    public static func randomHerd(_ count: Int, extra: Double, seed: UInt64) -> Topology {
        let servers = names(count)
        var random = SeededRandom(seed: seed, stream: 0x6865_7264)
        var pairs = Set<[Int]>()
        for index in 1..<max(count, 1) {
            let parent = Int(random.next() % UInt64(index))
            pairs.insert([parent, index])
        }
        let wanted = Int(Double(count) * extra)
        var attempts = 0
        while pairs.count < count - 1 + wanted && attempts < wanted * 20 {
            attempts += 1
            let a = Int(random.next() % UInt64(count))
            let b = Int(random.next() % UInt64(count))
            guard a != b else { continue }
            pairs.insert([min(a, b), max(a, b)])
        }
        let links = pairs.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }.map {
            HerdConfig.Link(servers[$0[0]], servers[$0[1]])
        }
        return Topology(name: "random", servers: servers, links: links)
    }

    private static func pairing(_ count: Int, degree: Int, random: inout SeededRandom) -> [(Int, Int)]? {
        var stubs = (0..<count).flatMap { Array(repeating: $0, count: degree) }
        if stubs.count % 2 == 1 { stubs.removeLast() }
        var links: [(Int, Int)] = []
        var seen = Set<[Int]>()
        // Pair stubs at random, retrying a few times for the pairs that would make a loop or a double link.
        while !stubs.isEmpty {
            var placed = false
            for _ in 0..<50 {
                let i = Int(random.next() % UInt64(stubs.count))
                var j = Int(random.next() % UInt64(stubs.count - 1))
                if j >= i { j += 1 }
                let (a, b) = (stubs[i], stubs[j])
                let key = [min(a, b), max(a, b)]
                guard a != b, !seen.contains(key) else { continue }
                seen.insert(key)
                links.append((key[0], key[1]))
                for index in [i, j].sorted(by: >) { stubs.remove(at: index) }
                placed = true
                break
            }
            if !placed { return nil }
        }
        return links
    }

    static func isConnected(_ count: Int, _ links: [(Int, Int)]) -> Bool {
        var adjacent = Array(repeating: [Int](), count: count)
        for (a, b) in links {
            adjacent[a].append(b)
            adjacent[b].append(a)
        }
        var seen = Array(repeating: false, count: count)
        var stack = [0]
        seen[0] = true
        var reached = 1
        while let next = stack.popLast() {
            for other in adjacent[next] where !seen[other] {
                seen[other] = true
                reached += 1
                stack.append(other)
            }
        }
        return reached == count
    }

    /// Each server's neighbours.
    public var adjacency: [String: [String]] {
        var result: [String: [String]] = [:]
        for link in links {
            result[link.first, default: []].append(link.second)
            result[link.second, default: []].append(link.first)
        }
        return result
    }

    /// The most links an update crosses from any server to reach every other (the graph's diameter).
    public var diameter: Int {
        let adjacent = adjacency
        var longest = 0
        for source in servers {
            var distance = [source: 0]
            var queue = [source]
            var index = 0
            while index < queue.count {
                let next = queue[index]
                index += 1
                for other in adjacent[next] ?? [] where distance[other] == nil {
                    distance[other] = distance[next]! + 1
                    queue.append(other)
                }
            }
            longest = max(longest, distance.values.max() ?? 0)
        }
        return longest
    }
}
