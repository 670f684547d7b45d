// Keys and values of every position seen so far, for every layer, with a fixed capacity.

/// The attention state of one sequence. Capacity is explicit: asking for more positions than it
/// holds is `InferenceError.contextOverflow`, never a silent wrap or reallocation.
///
/// Memory is reserved up front but only touched as positions fill, so an idle large cache costs
/// little resident memory. Not thread-safe: one sequence, one owner.
public final class KVCache {
    /// Maximum number of positions.
    public let capacity: Int
    /// Layers of the model this cache belongs to.
    public let layers: Int
    /// Floats per position per layer (`kvHeads * headDim`).
    public let kvDim: Int
    /// Positions currently filled (the next token goes at this position).
    public private(set) var count: Int = 0

    /// keys[layer][position][kvDim] — layer-major so one layer's keys are contiguous.
    let keys: UnsafeMutablePointer<Float>
    /// values[layer][position][kvDim].
    let values: UnsafeMutablePointer<Float>

    /// A cache for `capacity` positions of a model shaped by `config`.
    public init(config: ModelConfig, capacity: Int) {
        self.capacity = max(1, capacity)
        self.layers = config.layers
        self.kvDim = config.kvDim
        let total = layers * self.capacity * kvDim
        keys = .allocate(capacity: total)
        values = .allocate(capacity: total)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Keys of `layer`: `[capacity, kvDim]`.
    @inline(__always)
    func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * kvDim }

    /// Values of `layer`: `[capacity, kvDim]`.
    @inline(__always)
    func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * kvDim }

    /// Checks that `n` more positions fit.
    func reserve(_ n: Int) throws(InferenceError) {
        guard count + n <= capacity else { throw .contextOverflow(needed: count + n, capacity: capacity) }
    }

    /// Marks `n` more positions as filled (after a forward pass wrote them).
    func advance(by n: Int) { count += n }

    /// Forgets every position from `length` on (rollback, or reuse of a shared prefix).
    public func truncate(to length: Int) { count = max(0, min(count, length)) }

    /// Forgets everything.
    public func reset() { count = 0 }

    /// Makes this cache hold the first `length` positions of `source` (a shared prompt prefix computed
    /// once): copies their keys and values layer by layer and sets `count` to `length`.
    public func loadPrefix(from source: KVCache, length: Int) throws(InferenceError) {
        guard source.layers == layers, source.kvDim == kvDim else {
            throw .invalidMetadata(key: "kv_cache", reason: "prefix cache has another model's shape")
        }
        guard length <= source.count else { throw .contextOverflow(needed: length, capacity: source.count) }
        guard length <= capacity else { throw .contextOverflow(needed: length, capacity: capacity) }
        for layer in 0..<layers {
            keys(layer: layer).update(from: source.keys(layer: layer), count: length * kvDim)
            values(layer: layer).update(from: source.values(layer: layer), count: length * kvDim)
        }
        count = length
    }

    /// Bytes reserved for keys and values.
    public var reservedBytes: Int { 2 * layers * capacity * kvDim * MemoryLayout<Float>.stride }
}
