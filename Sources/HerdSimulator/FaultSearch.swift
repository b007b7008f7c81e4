import Foundation
import Logging

/// Runs the fault plans of many seeds and reports each failure with the command that replays it.
public struct FaultSearch {
    public var firstSeed: UInt64
    public var count: Int
    public var maximumServers: Int

    public init(firstSeed: UInt64, count: Int, maximumServers: Int = 50) {
        self.firstSeed = firstSeed
        self.count = count
        self.maximumServers = maximumServers
    }

    /// The command that replays `seed` with its servers' logs on standard error.
    public func replayCommand(_ seed: UInt64) -> String {
        let servers = maximumServers == 50 ? "" : " --max-servers \(maximumServers)"
        return "swift run herd simulate run --seed \(seed)\(servers) --log-level info"
    }

    /// Runs every seed; `progress` gets one line per failure and a summary every `every` seeds.
    public func run(every: Int = 100, progress: (String) -> Void) throws -> [SimulationRun.Outcome] {
        var failures: [SimulationRun.Outcome] = []
        var reports = 0
        var acknowledged = 0
        var crashes = 0
        var simulated = 0.0
        let started = ContinuousClock.now
        for offset in 0..<count {
            let seed = firstSeed + UInt64(offset)
            let outcome = try SimulationRun(plan: .make(seed: seed, maximumServers: maximumServers)).run()
            reports += outcome.reports
            acknowledged += outcome.acknowledged
            crashes += outcome.crashes
            simulated += outcome.simulatedSeconds
            if !outcome.passed {
                failures.append(outcome)
                progress("FAILED \(outcome.plan)")
                for violation in outcome.violations.prefix(5) { progress("  \(violation)") }
                if outcome.violations.count > 5 { progress("  ... and \(outcome.violations.count - 5) more") }
                progress("  replay: \(replayCommand(seed))")
            }
            if (offset + 1) % every == 0 || offset + 1 == count {
                let elapsed = ContinuousClock.now - started
                progress(
                    "\(offset + 1)/\(count) seeds, \(failures.count) failed: \(reports) reports (\(acknowledged) answered), \(crashes) crashes, \(Int(simulated)) simulated s in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))"
                )
            }
        }
        return failures
    }
}
