import HerdTesting
import Synchronization
import Testing

@testable import HerdKit

@Suite("CachingPlaceProvider")
struct CachingPlaceProviderTests {
    static let ucla = PlaceQuery(latitude: 34.068930, longitude: -118.445127, radiusMetres: 10_000, limit: 5)

    static let royce = PlacesResponse(results: [
        .object([
            "name": .string("Royce Hall"),
            "geometry": .object(["location": .object(["lat": .number(34.0729), "lng": .number(-118.4422)])]),
        ])
    ])

    @Test("a repeated query within the TTL is answered from memory")
    func repeatWithinTTL() async throws {
        let upstream = CountingProvider(.response(Self.royce))
        let clock = ManualTestClock()
        let cache = CachingPlaceProvider(wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: clock)

        let first = try await cache.nearbyPlaces(Self.ucla)
        clock.advance(by: .seconds(59))
        let second = try await cache.nearbyPlaces(Self.ucla)

        #expect(first == Self.royce)
        #expect(second == Self.royce)
        #expect(upstream.queries == [Self.ucla])
        #expect(cache.statistics == .init(hits: 1, misses: 1))
    }

    @Test("an answer older than the TTL is fetched again")
    func expiry() async throws {
        let upstream = CountingProvider(.response(Self.royce))
        let clock = ManualTestClock()
        let cache = CachingPlaceProvider(wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: clock)

        _ = try await cache.nearbyPlaces(Self.ucla)
        clock.advance(by: .seconds(60))
        _ = try await cache.nearbyPlaces(Self.ucla)

        #expect(upstream.queries.count == 2)
        #expect(cache.statistics == .init(hits: 0, misses: 2))
    }

    @Test("locations equal to five decimals share an entry; radius, bound and farther points do not")
    func keys() async throws {
        let upstream = CountingProvider(.response(Self.royce))
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())
        var nearby = Self.ucla
        nearby.latitude += 0.000_002  // 34.068932 rounds to 34.06893 too: about 20 cm away
        var otherRadius = Self.ucla
        otherRadius.radiusMetres = 10_001
        var otherBound = Self.ucla
        otherBound.limit = 6
        var otherPoint = Self.ucla
        otherPoint.longitude -= 0.000_01

        for query in [Self.ucla, nearby, otherRadius, otherBound, otherPoint, otherPoint] {
            _ = try await cache.nearbyPlaces(query)
        }

        #expect(upstream.queries == [Self.ucla, otherRadius, otherBound, otherPoint])
        #expect(cache.statistics == .init(hits: 2, misses: 4))
    }

    @Test("ZERO_RESULTS is an answer and is cached")
    func zeroResultsCached() async throws {
        let upstream = CountingProvider(.response(PlacesResponse(results: [])))
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())

        let first = try await cache.nearbyPlaces(Self.ucla)
        _ = try await cache.nearbyPlaces(Self.ucla)

        #expect(first.status == .zeroResults)
        #expect(upstream.queries.count == 1)
    }

    @Test("a thrown failure is not cached: the next query asks upstream again")
    func thrownFailureNotCached() async throws {
        let upstream = CountingProvider(
            .failure(PlaceProviderError(status: .overQueryLimit, message: "quota")))
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())

        for _ in 0..<2 {
            await #expect(throws: PlaceProviderError(status: .overQueryLimit, message: "quota")) {
                try await cache.nearbyPlaces(Self.ucla)
            }
        }

        #expect(upstream.queries.count == 2)
        #expect(cache.count == 0)
    }

    @Test("a failure reported in status is not cached")
    func statusFailureNotCached() async throws {
        let denied = PlacesResponse.failure(.requestDenied, message: "The provided API key is invalid.")
        let upstream = CountingProvider(.response(denied))
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())

        #expect(try await cache.nearbyPlaces(Self.ucla) == denied)
        #expect(try await cache.nearbyPlaces(Self.ucla) == denied)

        #expect(upstream.queries.count == 2)
        #expect(cache.count == 0)
    }

    @Test("ten concurrent identical queries make one upstream call and all get its answer")
    func singleFlight() async throws {
        let gate = TestGate()
        let upstream = CountingProvider(.response(Self.royce), gate: gate)
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())

        let answers = try await withThrowingTaskGroup(of: PlacesResponse.self) { group in
            for _ in 0..<10 {
                group.addTask { try await cache.nearbyPlaces(Self.ucla) }
            }
            // Every caller has either started the upstream call or joined it before the call may finish.
            try await eventually("10 lookups", timeout: .seconds(30), poll: .milliseconds(1)) {
                cache.statistics.misses + cache.statistics.coalesced == 10
            }
            gate.open()
            var answers: [PlacesResponse] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }

        #expect(answers == Array(repeating: Self.royce, count: 10))
        #expect(upstream.queries == [Self.ucla])
        #expect(cache.statistics == .init(hits: 0, misses: 1, coalesced: 9))
    }

    @Test("concurrent callers share a failure, and the next query tries again")
    func sharedFailure() async throws {
        let gate = TestGate()
        let upstream = CountingProvider(
            .failure(PlaceProviderError(status: .unknownError, message: "HTTP 503")), gate: gate)
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())

        let failures = await withTaskGroup(of: PlaceProviderError?.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    do {
                        _ = try await cache.nearbyPlaces(Self.ucla)
                        return nil
                    } catch {
                        return error as? PlaceProviderError
                    }
                }
            }
            do {
                try await eventually("3 lookups", timeout: .seconds(30), poll: .milliseconds(1)) {
                    cache.statistics.misses + cache.statistics.coalesced == 3
                }
            } catch {
                Issue.record(error)
            }
            gate.open()
            var failures: [PlaceProviderError?] = []
            for await failure in group { failures.append(failure) }
            return failures
        }
        #expect(failures == Array(repeating: PlaceProviderError(status: .unknownError, message: "HTTP 503"), count: 3))
        #expect(upstream.queries.count == 1)

        await #expect(throws: PlaceProviderError.self) { try await cache.nearbyPlaces(Self.ucla) }
        #expect(upstream.queries.count == 2)
    }

    @Test("at capacity the least recently used entry is evicted")
    func leastRecentlyUsedEviction() async throws {
        let upstream = CountingProvider(.response(Self.royce))
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 2, clock: ManualTestClock())
        func query(_ limit: Int) -> PlaceQuery {
            PlaceQuery(latitude: 34.068930, longitude: -118.445127, radiusMetres: 10_000, limit: limit)
        }

        _ = try await cache.nearbyPlaces(query(1))
        _ = try await cache.nearbyPlaces(query(2))
        _ = try await cache.nearbyPlaces(query(1))  // hit: 1 is now more recent than 2
        _ = try await cache.nearbyPlaces(query(3))  // evicts 2
        _ = try await cache.nearbyPlaces(query(1))  // still a hit
        _ = try await cache.nearbyPlaces(query(2))  // a miss again, evicts 3

        #expect(upstream.queries.map(\.limit) == [1, 2, 3, 2])
        #expect(cache.statistics == .init(hits: 2, misses: 4, evictions: 2))
        #expect(cache.count == 2)
    }

    @Test("a stored, unexpired answer is at hand at once, and counts as a hit")
    func immediateHit() async throws {
        let upstream = CountingProvider(.response(Self.royce))
        let clock = ManualTestClock()
        let cache = CachingPlaceProvider(wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: clock)

        #expect(cache.immediatePlaces(Self.ucla) == nil, "nothing stored yet")
        #expect(cache.statistics == .init())
        _ = try await cache.nearbyPlaces(Self.ucla)
        clock.advance(by: .seconds(59))
        #expect(cache.immediatePlaces(Self.ucla) == Self.royce)
        #expect(cache.statistics == .init(hits: 1, misses: 1))
        clock.advance(by: .seconds(1))
        #expect(cache.immediatePlaces(Self.ucla) == nil, "expired")
        #expect(upstream.queries == [Self.ucla])
        #expect(cache.statistics == .init(hits: 1, misses: 1))
    }

    @Test("failures and queries in flight are not at hand")
    func immediateMisses() async throws {
        let gate = TestGate()
        let upstream = CountingProvider(.response(Self.royce), gate: gate)
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())
        let pending = Task { try await cache.nearbyPlaces(Self.ucla) }
        try await eventually("the first lookup", timeout: .seconds(30), poll: .milliseconds(1)) {
            cache.statistics.misses == 1
        }
        #expect(cache.immediatePlaces(Self.ucla) == nil, "in flight")
        gate.open()
        #expect(try await pending.value == Self.royce)
        #expect(cache.immediatePlaces(Self.ucla) == Self.royce)

        let failing = CountingProvider(.response(.failure(.overQueryLimit, message: "quota")))
        let failures = CachingPlaceProvider(
            wrapping: failing, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())
        _ = try await failures.nearbyPlaces(Self.ucla)
        #expect(failures.immediatePlaces(Self.ucla) == nil)
    }

    @Test("without a stored answer, the upstream's own immediate answer is given, and nothing is stored")
    func immediateFromUpstream() throws {
        let upstream = ImmediateProvider(Self.royce)
        let cache = CachingPlaceProvider(
            wrapping: upstream, ttl: .seconds(60), capacity: 100, clock: ManualTestClock())
        #expect(cache.immediatePlaces(Self.ucla) == Self.royce)
        #expect(cache.immediatePlaces(Self.ucla) == Self.royce)
        #expect(upstream.immediateQueries == [Self.ucla, Self.ucla])
        #expect(cache.count == 0)
        #expect(cache.statistics == .init())
    }

    @Test("PlaceCacheOptions wraps a provider as the options say, and 0 turns the cache off")
    func options() throws {
        let upstream = CountingProvider(.response(Self.royce))
        func options(_ values: [String: String]) -> ConfigOptions {
            ConfigOptions(
                values: values.mapValues { .scalar($0, line: 7) }, keyPath: "provider.options", file: "herd.yaml",
                baseDirectory: "")
        }

        let wrapped = try PlaceCacheOptions.wrap(upstream, options: options(["cache_capacity": "5"]))
        let cache = try #require(wrapped as? CachingPlaceProvider<ContinuousClock>)
        #expect(cache.ttl == .seconds(60))
        #expect(cache.capacity == 5)

        let off = try PlaceCacheOptions.wrap(upstream, options: options(["cache_ttl_seconds": "0"]))
        #expect(off is CountingProvider)

        #expect(throws: ConfigError.self) {
            try PlaceCacheOptions.wrap(upstream, options: options(["cache_ttl_seconds": "-1"]))
        }
        do {
            _ = try PlaceCacheOptions.wrap(upstream, options: options(["cache_capacity": "0"]))
            Issue.record("a zero capacity was accepted")
        } catch {
            #expect(
                error.description
                    == "herd.yaml:7: provider.options.cache_capacity: must be between 1 and 10000000, got 0")
        }
    }

    @Test("LRUCache keeps recency order and reuses freed slots")
    func lruCache() {
        var lru = LRUCache<String, Int>(capacity: 3)
        lru.setValue(1, forKey: "a")
        lru.setValue(2, forKey: "b")
        lru.setValue(3, forKey: "c")
        #expect(lru.keys == ["c", "b", "a"])
        #expect(lru.value(forKey: "a") == 1)
        #expect(lru.keys == ["a", "c", "b"])
        #expect(lru.peek("b") == 2)
        #expect(lru.keys == ["a", "c", "b"])
        #expect(lru.setValue(4, forKey: "d") == 1)
        #expect(lru.keys == ["d", "a", "c"])
        #expect(lru.removeValue(forKey: "a") == 1)
        #expect(lru.keys == ["d", "c"])
        lru.replaceValue(30, forKey: "c")
        #expect(lru.keys == ["d", "c"])
        #expect(lru.setValue(5, forKey: "e") == 0)
        #expect(lru.keys == ["e", "d", "c"])
        #expect(lru.peek("c") == 30)
        #expect(lru.count == 3)
        #expect(lru.removeValue(forKey: "zzz") == nil)
    }
}

/// A provider that records its queries and answers with one outcome, optionally after a gate opens.
private final class CountingProvider: PlaceProvider {
    enum Outcome: Sendable {
        case response(PlacesResponse)
        case failure(PlaceProviderError)
    }

    let outcome: Outcome
    let gate: TestGate?
    private let recorded = Mutex<[PlaceQuery]>([])

    init(_ outcome: Outcome, gate: TestGate? = nil) {
        self.outcome = outcome
        self.gate = gate
    }

    var queries: [PlaceQuery] { recorded.withLock { $0 } }

    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        recorded.withLock { $0.append(query) }
        await gate?.wait()
        switch outcome {
        case .response(let response): return response
        case .failure(let error): throw error
        }
    }
}

/// A provider with every answer at hand, that records what it was asked that way.
private final class ImmediateProvider: PlaceProvider {
    let response: PlacesResponse
    private let recorded = Mutex<[PlaceQuery]>([])

    init(_ response: PlacesResponse) { self.response = response }

    var immediateQueries: [PlaceQuery] { recorded.withLock { $0 } }

    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse { response }

    func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? {
        recorded.withLock { $0.append(query) }
        return response
    }
}

/// Holds callers of `wait()` until `open()`.
private final class TestGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A clock that moves only when told to, so TTL tests do not wait.
private final class ManualTestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))

    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        while now < deadline { try await Task.sleep(for: .milliseconds(1)) }
    }
}
