import HerdKit

/// A message-level model of flooding one update at a time over a topology, for comparing the herd's eager
/// flood with a Plumtree-style variant (eager push on a spanning tree, lazy `IHAVE` announcements and
/// `GRAFT`/`PRUNE` on the other links) before either is built into the servers. The eager model is checked
/// against the real servers in the simulator (`herd simulate study --model`), so the comparison rests on a
/// model whose eager half is known to match.
///
/// Links have one latency; a lost segment arrives a retransmission timeout later (TCP); a cut link holds its
/// messages until the heal, then delivers them a timeout later, as a silent cut of the simulated network
/// does.
public struct FloodModel {
    public enum Variant: String, Sendable, CaseIterable {
        /// Every server sends each new update to every neighbour but the one it came from.
        case eager
        /// Plumtree (Leitão et al., 2007): a server sends a new update in full on its eager links and as an
        /// `IHAVE` on its lazy ones; a duplicate on an eager link prunes it to lazy; an `IHAVE` for an update
        /// that does not arrive within the graft timeout grafts the link back to eager and fetches it. The
        /// origin sends in full to every neighbour, so a client's reply can still wait for every neighbour
        /// to hold its update.
        case plumtree
    }

    /// Bytes on the wire per message kind, as the study's reports make them (client ids `u0`, `u1`...): an AT
    /// line, the acknowledgement a receiver sends for it, an `IHAVE` (client id and time), and a `PRUNE` or
    /// `GRAFT` (client id).
    public struct Sizes: Sendable {
        public var update = 67
        public var acknowledgement = 8
        public var announcement = 32
        public var control = 10
        public init() {}
    }

    public var topology: Topology
    public var variant: Variant
    public var latency: Double = 10
    public var loss = 0.0
    public var retransmitTimeout: Double = 200
    public var graftTimeout: Double = 50
    public var sizes = Sizes()
    public var seed: UInt64 = 1

    public init(topology: Topology, variant: Variant) {
        self.topology = topology
        self.variant = variant
    }

    public struct Result: Sendable {
        public var convergenceMilliseconds: Double
        public var hops: Int
        public var messagesPerUpdate: Double
        /// Of those, AT lines (the rest are announcements and control lines).
        public var updatesPerUpdate: Double
        public var bytesPerUpdate: Double
        public var complete: Int
    }

    private enum Kind { case update, announcement, prune, graft }

    private struct Message: Comparable {
        var time: Double
        var order: Int
        var from: Int
        var to: Int
        var kind: Kind
        var hops: Int

        static func < (a: Message, b: Message) -> Bool { (a.time, a.order) < (b.time, b.order) }
        static func == (a: Message, b: Message) -> Bool { a.order == b.order }
    }

    /// Floods `updates` updates, one after another from random origins (a Plumtree's tree forms over the
    /// first ones and stays), with the links in `cut` cut from the start of each update until `heal` ms
    /// after it (never cut when empty); measures each from its origin taking it (or from the heal).
    public func run(updates: Int, warmup: Int = 50, cut: [HerdConfig.Link] = [], heal: Double = 0) -> Result {
        let index = Dictionary(uniqueKeysWithValues: topology.servers.enumerated().map { ($1, $0) })
        let count = topology.servers.count
        var neighbours = Array(repeating: [Int](), count: count)
        for link in topology.links {
            neighbours[index[link.first]!].append(index[link.second]!)
            neighbours[index[link.second]!].append(index[link.first]!)
        }
        let cutPairs = Set(cut.map { Set([index[$0.first]!, index[$0.second]!]) })
        var random = SeededRandom(seed: seed, stream: 0x6D6F_6465)
        // Each server's eager links; lazy are the rest.
        var eager = neighbours.map { Set($0) }
        var totals = (convergence: 0.0, hops: 0, messages: 0, updates: 0, bytes: 0, complete: 0, measured: 0)

        for round in 0..<(warmup + updates) {
            let origin = Int(random.next() % UInt64(count))
            var received = Array(repeating: -1.0, count: count)
            var hopsAt = Array(repeating: 0, count: count)
            var announcedBy = Array(repeating: [Int](), count: count)
            var queue = Heap<Message>()
            var order = 0
            var messages = 0
            var updatesSent = 0
            var bytes = 0
            func send(_ kind: Kind, from: Int, to: Int, at time: Double, hops: Int) {
                var delay = latency
                var timeout = retransmitTimeout
                while loss > 0 && random.chance(loss) {
                    delay += timeout
                    timeout *= 2
                }
                var arrival = time + delay
                if cutPairs.contains(Set([from, to])) && time < heal {
                    arrival = max(arrival, heal + retransmitTimeout + latency)
                }
                order += 1
                queue.insert(Message(time: arrival, order: order, from: from, to: to, kind: kind, hops: hops))
                messages += 1
                switch kind {
                case .update:
                    updatesSent += 1
                    bytes += sizes.update + sizes.acknowledgement
                case .announcement: bytes += sizes.announcement + sizes.acknowledgement
                case .prune, .graft: bytes += sizes.control
                }
            }
            func take(_ server: Int, from sender: Int?, at time: Double, hops: Int) {
                received[server] = time
                hopsAt[server] = hops
                for other in neighbours[server] where other != sender {
                    let full = variant == .eager || sender == nil || eager[server].contains(other)
                    send(full ? .update : .announcement, from: server, to: other, at: time, hops: hops + 1)
                }
            }
            take(origin, from: nil, at: 0, hops: 0)
            var graftChecks: [(time: Double, server: Int)] = []
            while queue.first != nil || !graftChecks.isEmpty {
                // A graft timer that falls due before the next message runs first.
                graftChecks.sort { $0.time < $1.time }
                if let check = graftChecks.first, queue.first.map({ check.time <= $0.time }) ?? true {
                    graftChecks.removeFirst()
                    if received[check.server] < 0, let announcer = announcedBy[check.server].first {
                        eager[check.server].insert(announcer)
                        send(.graft, from: check.server, to: announcer, at: check.time, hops: 0)
                    }
                    continue
                }
                let message = queue.popMin()!
                let (to, from) = (message.to, message.from)
                switch message.kind {
                case .update:
                    if received[to] < 0 {
                        take(to, from: from, at: message.time, hops: message.hops)
                    } else if variant == .plumtree && eager[to].contains(from) {
                        eager[to].remove(from)
                        send(.prune, from: to, to: from, at: message.time, hops: 0)
                    }
                case .announcement:
                    if received[to] < 0 {
                        announcedBy[to].append(from)
                        graftChecks.append((message.time + graftTimeout, to))
                    }
                case .prune:
                    eager[to].remove(from)
                case .graft:
                    eager[to].insert(from)
                    send(.update, from: to, to: from, at: message.time, hops: hopsAt[to] + 1)
                }
            }
            guard round >= warmup else { continue }
            totals.measured += 1
            if received.allSatisfy({ $0 >= 0 }) {
                totals.complete += 1
                totals.convergence += (received.max() ?? 0) - (cut.isEmpty ? 0 : heal)
                totals.hops = max(totals.hops, hopsAt.max() ?? 0)
            }
            totals.messages += messages
            totals.updates += updatesSent
            totals.bytes += bytes
        }
        let measured = Double(max(1, totals.measured))
        return Result(
            convergenceMilliseconds: totals.convergence / Double(max(1, totals.complete)), hops: totals.hops,
            messagesPerUpdate: Double(totals.messages) / measured, updatesPerUpdate: Double(totals.updates) / measured,
            bytesPerUpdate: Double(totals.bytes) / measured, complete: totals.complete)
    }
}

/// A binary min-heap.
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    var first: Element? { items.first }

    mutating func insert(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
