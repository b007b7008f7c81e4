import Synchronization

/// A place provider decorator that answers repeated queries from memory for a while, and lets concurrent
/// identical queries share one upstream call.
///
/// Why: clients tend to repeat WHATSAT for the same spot, and every upstream call to a paid service costs
/// money, quota and latency. Two queries are "identical" when their locations agree to five decimal places
/// (about a metre), and their radius (to the millimetre) and bound are equal.
///
/// - Only successful answers (`OK`, `ZERO_RESULTS`) are kept, for `ttl` after they arrived; failures, thrown
///   or reported in `status`, are never cached, so the next query tries upstream again.
/// - While a query is in flight, identical queries wait for it instead of calling upstream (single flight);
///   they all get its answer or its error.
/// - At most `capacity` entries are kept (in flight ones included); the least recently used goes first.
/// - Everything lives in memory only: nothing is written to disk.
///
/// Usable around any provider, for example in a provider factory:
///
///     let cached = CachingPlaceProvider(wrapping: myProvider, ttl: .seconds(60), capacity: 10_000)
public final class CachingPlaceProvider<C: Clock>: PlaceProvider where C.Duration == Duration {
    /// Counters for logs, benchmarks and tests.
    public struct Statistics: Sendable, Hashable {
        /// Queries answered from a stored response.
        public var hits = 0
        /// Queries that called upstream.
        public var misses = 0
        /// Queries that joined an identical query already in flight.
        public var coalesced = 0
        /// Entries removed to stay within the capacity.
        public var evictions = 0

        public init(hits: Int = 0, misses: Int = 0, coalesced: Int = 0, evictions: Int = 0) {
            self.hits = hits
            self.misses = misses
            self.coalesced = coalesced
            self.evictions = evictions
        }
    }

    /// What identifies a query for the cache: the location rounded to about a metre, radius and bound.
    struct Key: Hashable {
        var latitudeE5: Int64
        var longitudeE5: Int64
        var radiusMillimetres: Int64
        var limit: Int

        init(_ query: PlaceQuery) {
            func scaled(_ value: Double, _ factor: Double) -> Int64 {
                let product = (value * factor).rounded()
                // Finite coordinates and radii always fit; anything else gets a key of its own.
                return product.isFinite && abs(product) < 9e18 ? Int64(product) : Int64.min
            }
            latitudeE5 = scaled(query.latitude, 1e5)
            longitudeE5 = scaled(query.longitude, 1e5)
            radiusMillimetres = scaled(query.radiusMetres, 1e3)
            limit = query.limit
        }
    }

    enum Entry {
        /// An upstream call in flight; `id` tells it apart from a later call for the same key.
        case pending(id: UInt64, task: Task<PlacesResponse, any Error>)
        case stored(PlacesResponse, expires: C.Instant)
    }

    struct State {
        var entries: LRUCache<Key, Entry>
        var nextID: UInt64 = 0
        var statistics = Statistics()
    }

    public let upstream: any PlaceProvider
    public let ttl: Duration
    public let capacity: Int
    private let clock: C
    private let state: Mutex<State>

    /// - Parameters:
    ///   - upstream: the provider asked on a miss.
    ///   - ttl: how long a successful answer is reused, counted from when it arrived.
    ///   - capacity: the most entries kept (at least 1).
    ///   - clock: where time is read, so tests can move it.
    public init(wrapping upstream: any PlaceProvider, ttl: Duration, capacity: Int, clock: C) {
        self.upstream = upstream
        self.ttl = ttl
        self.capacity = max(1, capacity)
        self.clock = clock
        self.state = Mutex(State(entries: LRUCache(capacity: max(1, capacity))))
    }

    /// The counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// How many entries are held (stored or in flight).
    public var count: Int { state.withLock { $0.entries.count } }

    /// A stored answer that has not expired (counted as a hit), or the upstream's own immediate answer.
    public func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? {
        let key = Key(query)
        let stored: PlacesResponse? = state.withLock { state in
            guard case .stored(let response, let expires)? = state.entries.value(forKey: key), clock.now < expires
            else { return nil }
            state.statistics.hits += 1
            return response
        }
        return stored ?? upstream.immediatePlaces(query)
    }

    public func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        let key = Key(query)
        let lookup: Lookup = state.withLock { state in
            let now = clock.now
            switch state.entries.value(forKey: key) {
            case .stored(let response, let expires) where now < expires:
                state.statistics.hits += 1
                return .hit(response)
            case .pending(_, let task):
                state.statistics.coalesced += 1
                return .wait(task)
            case .stored, nil:
                break
            }
            state.statistics.misses += 1
            let id = state.nextID
            state.nextID &+= 1
            // Not a child task: the call must go on for the others waiting on it if this caller goes away.
            let task = Task { try await self.fetch(query, key: key, id: id) }
            state.statistics.evictions += state.entries.setValue(.pending(id: id, task: task), forKey: key)
            return .wait(task)
        }
        switch lookup {
        case .hit(let response): return response
        case .wait(let task): return try await task.value
        }
    }

    private enum Lookup {
        case hit(PlacesResponse)
        case wait(Task<PlacesResponse, any Error>)
    }

    /// Asks upstream, then stores a successful answer in place of the pending entry (if it is still there).
    private func fetch(_ query: PlaceQuery, key: Key, id: UInt64) async throws -> PlacesResponse {
        let response: PlacesResponse
        do {
            response = try await upstream.nearbyPlaces(query)
        } catch {
            state.withLock { state in
                if case .pending(id, _)? = state.entries.peek(key) { state.entries.removeValue(forKey: key) }
            }
            throw error
        }
        let cacheable = response.status == .ok || response.status == .zeroResults
        state.withLock { state in
            guard case .pending(id, _)? = state.entries.peek(key) else { return }
            if cacheable {
                state.entries.replaceValue(.stored(response, expires: clock.now.advanced(by: ttl)), forKey: key)
            } else {
                state.entries.removeValue(forKey: key)
            }
        }
        return response
    }
}

extension CachingPlaceProvider where C == ContinuousClock {
    /// A cache on the monotonic clock, so a wall-clock jump neither expires nor revives entries.
    public convenience init(wrapping upstream: any PlaceProvider, ttl: Duration, capacity: Int) {
        self.init(wrapping: upstream, ttl: ttl, capacity: capacity, clock: ContinuousClock())
    }
}

/// The cache as config options any provider factory can offer: `cache_ttl_seconds` and `cache_capacity`.
public enum PlaceCacheOptions {
    /// The keys ``wrap(_:options:defaultTTLSeconds:defaultCapacity:)`` reads; add them to `allowOnly`.
    public static let keys: Set<String> = ["cache_ttl_seconds", "cache_capacity"]

    /// The most entries a cache may be configured to hold.
    public static let maximumCapacity = 10_000_000

    /// `provider` wrapped in a ``CachingPlaceProvider`` as the options say, or unchanged when the TTL is 0.
    ///
    /// - `cache_ttl_seconds`: 0-86400, default `defaultTTLSeconds`; 0 turns the cache off.
    /// - `cache_capacity`: 1-10000000 entries, default `defaultCapacity`.
    public static func wrap(
        _ provider: any PlaceProvider, options: ConfigOptions, defaultTTLSeconds: Int = 60,
        defaultCapacity: Int = 10_000
    ) throws(ConfigError) -> any PlaceProvider {
        let ttl = try options.int("cache_ttl_seconds", in: 0...86_400) ?? defaultTTLSeconds
        let capacity = try options.int("cache_capacity", in: 1...maximumCapacity) ?? defaultCapacity
        guard ttl > 0 else { return provider }
        return CachingPlaceProvider(wrapping: provider, ttl: .seconds(ttl), capacity: capacity)
    }
}

/// A dictionary of at most `capacity` entries that drops the least recently used one when full.
///
/// Entries live in one array linked in recency order (most recent at `head`), with an index by key, so
/// every operation is O(1) and no memory is allocated once the array is full.
struct LRUCache<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        /// Nil once removed, so a free slot holds on to nothing.
        var value: Value?
        var newer: Int?
        var older: Int?
    }

    let capacity: Int
    private var nodes: [Node] = []
    private var index: [Key: Int] = [:]
    private var free: [Int] = []
    private var head: Int?
    private var tail: Int?

    init(capacity: Int) {
        precondition(capacity > 0, "an LRU cache needs room for at least one entry")
        self.capacity = capacity
    }

    var count: Int { index.count }

    /// Keys from the most to the least recently used.
    var keys: [Key] {
        var keys: [Key] = []
        var cursor = head
        while let slot = cursor {
            keys.append(nodes[slot].key)
            cursor = nodes[slot].older
        }
        return keys
    }

    /// The value for `key`, which becomes the most recently used.
    mutating func value(forKey key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        moveToFront(slot)
        return nodes[slot].value
    }

    /// The value for `key`, leaving the order alone.
    func peek(_ key: Key) -> Value? {
        index[key].flatMap { nodes[$0].value }
    }

    /// Stores `value` as the most recently used; returns how many entries were evicted to make room (0 or 1).
    @discardableResult
    mutating func setValue(_ value: Value, forKey key: Key) -> Int {
        if let slot = index[key] {
            nodes[slot].value = value
            moveToFront(slot)
            return 0
        }
        var evicted = 0
        if index.count >= capacity, let oldest = tail {
            removeValue(forKey: nodes[oldest].key)
            evicted = 1
        }
        let node = Node(key: key, value: value, newer: nil, older: head)
        let slot: Int
        if let reused = free.popLast() {
            nodes[reused] = node
            slot = reused
        } else {
            nodes.append(node)
            slot = nodes.count - 1
        }
        if let head { nodes[head].newer = slot }
        head = slot
        if tail == nil { tail = slot }
        index[key] = slot
        return evicted
    }

    /// Replaces the value of an existing entry without changing the order; does nothing if `key` is absent.
    mutating func replaceValue(_ value: Value, forKey key: Key) {
        guard let slot = index[key] else { return }
        nodes[slot].value = value
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let slot = index.removeValue(forKey: key) else { return nil }
        unlink(slot)
        free.append(slot)
        defer { nodes[slot].value = nil }
        return nodes[slot].value
    }

    private mutating func moveToFront(_ slot: Int) {
        guard head != slot else { return }
        unlink(slot)
        nodes[slot].older = head
        nodes[slot].newer = nil
        if let head { nodes[head].newer = slot }
        head = slot
        if tail == nil { tail = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer
        let older = nodes[slot].older
        if let newer { nodes[newer].older = older } else { head = older }
        if let older { nodes[older].newer = newer } else { tail = newer }
        nodes[slot].newer = nil
        nodes[slot].older = nil
    }
}
