/// Capped exponential backoff with jitter, so re-dials spread out instead of arriving together.
struct Backoff {
    let initial: Duration
    let maximum: Duration
    private(set) var current: Duration
    /// Where the jitter comes from: a uniform fraction in 0...1 (seeded in a simulation, so a run replays).
    private let randomFraction: RandomFraction

    init(initial: Duration, maximum: Duration, randomFraction: RandomFraction = .system) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
        self.randomFraction = randomFraction
    }

    /// The next delay: the current step plus up to 20 % jitter; the step then doubles up to the cap.
    mutating func nextDelay() -> Duration {
        let delay = current + current * (0.2 * randomFraction.next())
        current = min(current * 2, maximum)
        return min(delay, maximum)
    }

    mutating func reset() {
        current = initial
    }
}

/// A source of uniform fractions in 0...1 for jitter: the system's generator in a server, a seeded one in the
/// simulator (HerdSimulator), so one seed always makes the same run.
package struct RandomFraction: Sendable {
    package let next: @Sendable () -> Double

    package init(_ next: @escaping @Sendable () -> Double) {
        self.next = next
    }

    package static let system = RandomFraction { Double.random(in: 0...1) }
}
