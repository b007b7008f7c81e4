import HerdTesting
import Testing

/// Every end-to-end suite, run one test at a time: each test starts real servers (a whole herd, or the `herd`
/// executable), and a two-core machine shared with builds is slow enough already.
@Suite(.serialized) struct HerdEndToEndTests {}
