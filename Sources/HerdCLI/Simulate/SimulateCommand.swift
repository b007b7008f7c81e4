import ArgumentParser
import Foundation
import HerdSimulator
import Logging
import Synchronization

/// `herd simulate`: real servers in one process over a simulated network and clock (HerdSimulator).
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run herds in simulation: the seeded fault search, one seed, or the scaling study.",
        discussion: """
            Every server is a real one (pipeline, store, journal, peer links), on one event loop in simulated \
            time over a simulated network, so a run of many seconds and many servers takes moments and a seed \
            always replays the same run. See Docs/simulation.md and Docs/scaling.md.
            """,
        subcommands: [
            SimulateSearchCommand.self, SimulateRunCommand.self, SimulateStudyCommand.self,
            SimulateValidateCommand.self,
        ]
    )
}

/// Dictionary order is random per process unless hashing is deterministic; a seed must replay the same
/// run in a new process, so the simulator runs with it on (starting itself again if need be).
enum DeterministicHashing {
    /// This executable, which the simulator starts again (for hashing, or for `--jobs`).
    static let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

    static func ensure() {
        guard ProcessInfo.processInfo.environment["SWIFT_DETERMINISTIC_HASHING"] == nil else { return }
        setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
        let arguments = CommandLine.arguments
        var pointers = arguments.map { strdup($0) } + [nil]
        execv(executable.path, &pointers)
        // No /proc (not Linux): go on, replays then hold within this process only.
    }
}

struct SimulateSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Run the fault plans of many seeds; print each failure with the command that replays it.")

    @Option(help: "How many seeds.") var seeds = 1000
    @Option(help: "The first seed.") var first: UInt64 = 1
    @Option(name: .customLong("max-servers"), help: "The largest random herd.") var maximumServers = 50

    @Option(help: "Processes to share the seeds between (the simulator runs on one thread each).") var jobs = 1

    func run() throws {
        DeterministicHashing.ensure()
        if jobs > 1 { return try runShared() }
        let search = FaultSearch(firstSeed: first, count: seeds, maximumServers: maximumServers)
        let failures = try search.run {
            print($0)
            fflush(nil)
        }
        fflush(nil)
        if !failures.isEmpty {
            throw CommandFailure("\(failures.count) of \(seeds) seeds failed")
        }
    }
}

extension SimulateSearchCommand {
    /// Splits the seeds into `jobs` runs of this command, each in a process of its own, and passes their
    /// output through line by line.
    private func runShared() throws {
        let share = (seeds + jobs - 1) / jobs
        var children: [(Process, Pipe)] = []
        for job in 0..<jobs where job * share < seeds {
            let process = Process()
            process.executableURL = DeterministicHashing.executable
            process.arguments = [
                "simulate", "search", "--seeds", "\(min(share, seeds - job * share))", "--first",
                "\(first + UInt64(job * share))", "--max-servers", "\(maximumServers)",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let relay = LineRelay(tag: "[job \(job + 1)] ")
            pipe.fileHandleForReading.readabilityHandler = { relay.take($0.availableData) }
            try process.run()
            children.append((process, pipe))
        }
        var failed = 0
        for (process, pipe) in children {
            process.waitUntilExit()
            pipe.fileHandleForReading.readabilityHandler = nil
            if process.terminationStatus != 0 { failed += 1 }
        }
        guard failed == 0 else { throw CommandFailure("\(failed) of \(children.count) jobs found failing seeds") }
        print("all \(seeds) seeds passed (\(children.count) jobs)")
    }
}

/// Passes a child's output on, whole lines at a time, each with the child's tag.
private final class LineRelay: Sendable {
    private let tag: String
    private let partial = Mutex<[UInt8]>([])

    init(tag: String) {
        self.tag = tag
    }

    func take(_ data: Data) {
        let lines: [String] = partial.withLock { partial in
            partial += data
            var lines: [String] = []
            while let end = partial.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(tag + String(decoding: partial[..<end], as: UTF8.self) + "\n")
                partial.removeSubrange(...end)
            }
            return lines
        }
        for line in lines { FileHandle.standardOutput.write(Data(line.utf8)) }
    }
}

struct SimulateRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Replay one seed's fault plan and print what it checked.")

    @Option(help: "The seed.") var seed: UInt64
    @Option(name: .customLong("max-servers"), help: "The largest random herd.") var maximumServers = 50
    @Option(name: .customLong("log-level"), help: "Servers' log level (records go to standard error).")
    var logLevel = "critical"
    @Flag(help: "Print the plan's events.") var events = false

    func run() throws {
        DeterministicHashing.ensure()
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue))")
        }
        let plan = FaultPlan.make(seed: seed, maximumServers: maximumServers)
        print(plan)
        if events {
            for (at, event) in plan.events { print(String(format: "%9.3f s ", Double(at.nanoseconds) / 1e9), event) }
        }
        let outcome = try SimulationRun(plan: plan, logLevel: level).run()
        print(
            "\(outcome.reports) reports, \(outcome.acknowledged) answered, \(outcome.crashes) crashes, \(String(format: "%.1f", outcome.simulatedSeconds)) simulated s, \(outcome.deliveries) segments delivered, final records' digest \(String(outcome.digest, radix: 16))"
        )
        for violation in outcome.violations { print("  \(violation)") }
        fflush(nil)
        guard outcome.passed else { throw CommandFailure("seed \(seed) failed \(outcome.violations.count) checks") }
        print("passed")
    }
}

struct SimulateStudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "How flooding scales: convergence, hops, messages and bytes per update against herd size.",
        discussion: """
            For each herd size and topology (the reference herd at 5; a ring, a balanced tree, random graphs \
            of degree 3 and 4), with no faults, with 1 % segment loss, and with the reports sent during a \
            partition that then heals. Docs/scaling.md shows the figures; Scripts/plot-scaling.py draws them.
            """)

    @Option(help: "Herd sizes, comma-separated.") var servers = "5,20,100,500,1000"
    @Option(help: "Conditions, comma-separated: clean, loss1, partition.") var conditions = "clean,loss1,partition"
    @Option(help: "Topologies, comma-separated (reference, ring, tree, random3, random4); all by default.")
    var topologies: String?
    @Option(
        help: """
            Variants, comma-separated: eager (the real servers), eager-model and plumtree-model (the \
            message-level FloodModel).
            """)
    var variants = "eager,eager-model,plumtree-model"
    @Option(help: "Reports per case.") var updates = 20
    @Option(name: .customLong("latency-ms"), help: "One-way latency of every peer link, in milliseconds.")
    var latencyMilliseconds = 10.0
    @Option(help: "The seed of the random graphs and report origins.") var seed: UInt64 = 1
    @Flag(help: "Print tab-separated values (for Scripts/plot-scaling.py) instead of a table.") var tsv = false

    func run() throws {
        DeterministicHashing.ensure()
        let sizes = try servers.split(separator: ",").map { text in
            guard let size = Int(text.trimmingCharacters(in: .whitespaces)), size >= 3 else {
                throw ValidationError("--servers: '\(text)' is not a herd size of 3 or more")
            }
            return size
        }
        let chosen = try conditions.split(separator: ",").map { text in
            guard let condition = ScalingStudy.Condition(rawValue: String(text)) else {
                throw ValidationError(
                    "--conditions: '\(text)' is not one of \(ScalingStudy.Condition.allCases.map(\.rawValue))")
            }
            return condition
        }
        let chosenVariants = try variants.split(separator: ",").map { text in
            guard ["eager", "eager-model", "plumtree-model"].contains(text) else {
                throw ValidationError("--variants: '\(text)' is not one of eager, eager-model, plumtree-model")
            }
            return String(text)
        }
        let wanted = topologies.map { Set($0.split(separator: ",").map(String.init)) }
        var study = ScalingStudy()
        study.updates = updates
        study.seed = seed
        study.linkLatency = .nanoseconds(Int64(latencyMilliseconds * 1_000_000))
        print(
            tsv
                ? ScalingStudy.Figures.tsvHeader
                : "topology   servers  variant         condition  hops  convergence ms  messages/update     RMR  bytes/update  complete"
        )
        for size in sizes {
            for topology in study.topologies(servers: size) where wanted?.contains(topology.name) ?? true {
                for condition in chosen {
                    for variant in chosenVariants {
                        let figures =
                            switch variant {
                            case "eager-model": study.model(topology, variant: .eager, condition: condition)
                            case "plumtree-model": study.model(topology, variant: .plumtree, condition: condition)
                            default: try study.measure(topology, condition: condition)
                            }
                        if tsv {
                            print(figures.tsvRow)
                        } else {
                            print(
                                String(
                                    format: "%-10@ %7d  %-14@  %-9@  %4d  %14.1f  %15.1f  %6.2f  %12.0f  %4d/%d",
                                    figures.topology, figures.servers, figures.variant, figures.condition.rawValue,
                                    figures.hops,
                                    figures.convergenceMilliseconds, figures.messagesPerUpdate,
                                    figures.relativeRedundancy,
                                    figures.bytesPerUpdate, figures.complete, figures.updates))
                        }
                        fflush(nil)
                    }
                }
            }
        }
    }
}
