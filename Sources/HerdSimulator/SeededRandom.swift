import HerdKit
import Synchronization

/// SplitMix64: small, fast and good enough to drive a simulation, and the same sequence for the same seed on
/// every machine (the standard library's generator is neither seedable nor stable).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator of its own for one part of a run (a server, a link), so the draws of one part do not
    /// shift when another draws more or less.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SeededRandom(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// A uniform fraction in 0..<1.
    public mutating func fraction() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with probability `probability`.
    public mutating func chance(_ probability: Double) -> Bool {
        fraction() < probability
    }
}

/// A seeded generator a server's re-dial jitter draws from (it is called from the loop only, but the type
/// must be `Sendable` to sit in the server's settings).
final class SharedRandom: Sendable {
    private let generator: Mutex<SeededRandom>

    init(seed: UInt64, stream: UInt64) {
        generator = Mutex(SeededRandom(seed: seed, stream: stream))
    }

    var randomFraction: RandomFraction {
        RandomFraction { self.generator.withLock { $0.fraction() } }
    }
}
