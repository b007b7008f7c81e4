import Foundation
import HerdTesting

/// The seed of a nemesis run: `HERD_NEMESIS_SEED` (decimal, or hex with `0x`) when set, else random. Every
/// message of the run names it with the command line that replays it.
struct NemesisSeed: Sendable, CustomStringConvertible {
    let value: UInt64
    let replayed: Bool

    static func current() throws -> NemesisSeed {
        guard let text = ProcessInfo.processInfo.environment["HERD_NEMESIS_SEED"]?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty
        else { return NemesisSeed(value: UInt64.random(in: 0...UInt64.max), replayed: false) }
        let parsed = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let parsed else { throw HarnessError("HERD_NEMESIS_SEED=\(text) is not a 64-bit unsigned integer") }
        return NemesisSeed(value: parsed, replayed: true)
    }

    var replay: String { "HERD_NEMESIS_SEED=\(value) swift test --filter NemesisTests" }
    var description: String { "nemesis seed \(value) (replay: \(replay))" }
}

/// A small seeded generator (SplitMix64), so a run's plan and load replay from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// An independent stream for `stream` (a worker's number) of the same seed.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SeededGenerator(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range` (by modulo: the bias is negligible for these small ranges, and unlike the standard
    /// library's draw it is the same on every toolchain, so a seed replays anywhere).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func element<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
}

/// What the nemesis does and when: SIGKILL a server and start it again later, cut a link (silently or with
/// resets) and heal it later. Drawn from the seed before the run starts, so a seed always means one schedule;
/// every server is running and every link healed by the end.
struct NemesisPlan: Sendable {
    enum Action: Sendable, CustomStringConvertible {
        case kill(String)
        case start(String)
        case cut(String, String, NetworkNamespaces.Cut)
        case heal(String, String)

        var description: String {
            switch self {
            case .kill(let server): "SIGKILL \(server)"
            case .start(let server): "start \(server)"
            case .cut(let a, let b, let how): "cut \(a)-\(b) (\(how))"
            case .heal(let a, let b): "heal \(a)-\(b)"
            }
        }
    }

    struct Event: Sendable {
        /// Milliseconds after the load starts.
        let at: Int
        let action: Action
    }

    let events: [Event]
    /// Milliseconds of load and faults; every fault is over by then.
    let duration: Int

    /// - Parameters:
    ///   - steps: how many faults (a kill or a cut each), at most; fewer if the time runs out.
    ///   - maxDown: most servers down at once.
    init(
        seed: UInt64, servers: [String], links: [(String, String)], duration: Int = 40_000,
        steps: ClosedRange<Int> = 12...18, maxDown: Int = 2
    ) {
        var random = SeededGenerator(seed: seed)
        var events: [(at: Int, order: Int, action: Action)] = []
        var downUntil: [String: Int] = [:]
        var cutUntil: [Int: Int] = [:]
        func add(_ at: Int, _ action: Action) { events.append((at, events.count, action)) }

        var now = 1_500
        for _ in 0..<random.int(steps) {
            now += random.int(1_000...3_400)
            guard now < duration - 1_000 else { break }
            let up = servers.filter { downUntil[$0, default: 0] <= now }
            let whole = links.indices.filter { cutUntil[$0, default: 0] <= now }
            let canKill = servers.count - up.count < maxDown && !up.isEmpty
            if canKill && (whole.isEmpty || random.chance(50)) {
                let server = random.element(up)
                let back = min(now + random.int(300...5_000), duration)
                add(now, .kill(server))
                add(back, .start(server))
                downUntil[server] = back
            } else if !whole.isEmpty {
                let link = random.element(whole)
                let how = random.element(NetworkNamespaces.Cut.allCases)
                let healed = min(now + random.int(500...6_000), duration)
                add(now, .cut(links[link].0, links[link].1, how))
                add(healed, .heal(links[link].0, links[link].1))
                cutUntil[link] = healed
            }
        }
        self.events = events.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map {
            Event(at: $0.at, action: $0.action)
        }
        self.duration = duration
    }

    var description: String {
        events.map { String(format: "  %6.1f s  ", Double($0.at) / 1_000) + $0.action.description }
            .joined(separator: "\n")
    }
}
