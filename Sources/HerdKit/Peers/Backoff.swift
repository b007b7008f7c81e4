/// Capped exponential backoff with jitter, so re-dials spread out instead of arriving together.
struct Backoff {
    let initial: Duration
    let maximum: Duration
    private(set) var current: Duration

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The next delay: the current step plus up to 20 % jitter; the step then doubles up to the cap.
    mutating func nextDelay() -> Duration {
        let delay = current + current * Double.random(in: 0...0.2)
        current = min(current * 2, maximum)
        return min(delay, maximum)
    }

    mutating func reset() {
        current = initial
    }
}
