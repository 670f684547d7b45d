// The forward pass of every family in `ArchitectureTraits.table`: one block definition
// (Transformer+Block.swift) runs a chunk of n tokens, n = 1 when decoding. What changes with n is only
// the kernel under each projection (Transformer+Linear.swift):
//   n = 1        quantised matrix-vector kernels that read the weight blocks in place;
//   n ≤ 5        a quantised kernel that unpacks each block once for four tokens (types that have one);
//   larger n     weights dequantised to float32 and multiplied with `cblas_sgemm` — in cache-sized tiles
//                of rows for short chunks (a request's own tokens), a whole slice at a time for long ones.
// Attention is two sgemms (sgemv for one token) per head (Transformer+Attention.swift). Work is split
// across the cores with `Parallel`; OpenBLAS itself runs single-threaded.
//
// Shapes use n = tokens in the chunk (≤ maxBatch), T = positions in the cache after it, d = dim,
// q = qDim (heads·headDim), kv = kvDim, f = ffnDim, hd = headDim, rd = ropeDims, V = vocabulary size.

import COpenBLAS
import Foundation
import GGUF

/// Runs a `ModelWeights` over tokens, updating a `KVCache`, and leaves the next-token logits in `logits`.
/// Owns all scratch memory, so evaluating allocates nothing. Not thread-safe: one caller at a time.
public final class Transformer {
    /// The model this runs.
    public let model: ModelWeights
    /// Largest number of tokens one chunk holds; longer inputs run in several chunks.
    public let maxBatch: Int
    /// Inputs shorter than this run token by token (n = 1 chunks, the matrix-vector kernels).
    public var batchThreshold: Int = 2
    /// Chunks up to this size multiply on the quantised weights directly when the type has a
    /// shared-unpack kernel (each block unpacked once for four tokens); larger ones dequantise and use
    /// sgemm. Measured crossover on a 2-core Zen 4: the kernel wins at 4 tokens, tiled sgemm from 6.
    public var smallBatch: Int = 5
    /// Chunks up to this size dequantise `tileRows` rows at a time, so each tile is still in L2 when
    /// sgemm reads it; longer chunks amortise the round trip through memory and dequantise whole slices.
    public var tiledBatchLimit: Int = 40
    /// Rows per dequantised tile (32 rows × 1536 columns of float32 is 192 KiB).
    public var tileRows: Int = 32
    /// A LoRA adapter applied unmerged to every projection it updates (y = W·x + s·B·(A·x)), whatever
    /// the chunk size; nil runs the base model. It must have been loaded for this model's configuration,
    /// else `evaluate` throws `.adapterMismatch`. Keys and values depend on the adapter: a KV cache
    /// filled under one adapter must not be continued under another.
    public var adapter: LoRAAdapter? { didSet { adapterChanged() } }
    let c: ModelConfig
    let lanes: Int
    /// Upper bound of `smallBatch` (sizes `sums`).
    static let smallBatchLimit = 64
    /// Floats of `laneScratch` each lane owns: the widest row any kernel dequantises.
    let laneWidth: Int

    // Activations of the chunk, row-major, one row per token.
    let bx: UnsafeMutablePointer<Float>         // [n, d] residual stream
    let bxn: UnsafeMutablePointer<Float>        // [n, d] normalised input of a projection, or its output
    let bq: UnsafeMutablePointer<Float>         // [n, q] queries
    let battn: UnsafeMutablePointer<Float>      // [n, q] attention output, before wo
    let bgate: UnsafeMutablePointer<Float>      // [n, f] gate, then act(gate) ⊙ up
    let bup: UnsafeMutablePointer<Float>        // [n, f]
    /// Block sums (32 wide) of a projection's input rows, for the quantised kernels: [smallBatchLimit, maxIn/32].
    let sums: UnsafeMutablePointer<Float>
    let laneScratch: UnsafeMutablePointer<Float>   // [lanes][laneWidth] per-lane temporaries
    let weightScratch: UnsafeMutablePointer<Float> // [lanes][largest rows × cols] each lane's dequantised slice
    let weightScratchPerLane: Int
    /// Attention scores, per lane: [n, T]. Grown to the cache capacity.
    var scores: UnsafeMutablePointer<Float>
    var scoreCapacity: Int = 0                  // positions `scores` holds per row
    /// The distinct RoPE bases of the layers (one, or a local and a global one), and each layer's index into them.
    let ropeBases: [Double]
    let layerRope: [Int]
    let inverseFrequencies: [[Double]]          // [bases][rd/2] base^(-2i/rd)
    let cosSin: UnsafeMutablePointer<Float>     // [bases][maxBatch, rd] cos, sin pairs per position
    /// Next-token logits after the last `evaluate` (or the rows `computeLogits(only:)` computed): `[V]`.
    public let logits: UnsafeMutablePointer<Float>
    var lastRow = 0                             // row of the last evaluated token in `bx`
    var headInputReady = false                  // bxn and sums hold norm(bx[lastRow]) and its block sums

    // LoRA buffers, sized for the current adapter.
    /// Per lane: [maxBatch, maxRank] T = s·X·Aᵀ.
    var loraScratch: UnsafeMutablePointer<Float>
    var loraScratchPerLane: Int = 0             // floats of `loraScratch` each lane owns
    /// Why `adapter` cannot run on this model (nil when it can, or when there is none).
    var adapterProblem: String?

    /// Allocates scratch for chunks of up to `maxBatch` tokens.
    public init(model: ModelWeights, maxBatch: Int = 512) {
        openblas_set_num_threads(1)   // the engine parallelises around sgemm itself
        self.model = model
        let c = model.config
        self.c = c
        self.maxBatch = max(1, maxBatch)
        self.lanes = Parallel.lanes
        let d = c.dim, f = c.ffnDim, q = c.qDim, n = self.maxBatch
        laneWidth = max(f, d, q)
        bx = .allocate(capacity: n * d); bxn = .allocate(capacity: n * d); bq = .allocate(capacity: n * q)
        battn = .allocate(capacity: n * q); bgate = .allocate(capacity: n * f); bup = .allocate(capacity: n * f)
        sums = .allocate(capacity: Self.smallBatchLimit * (c.maxProjectionInputs / 32 + 1))
        laneScratch = .allocate(capacity: lanes * laneWidth)
        weightScratchPerLane = max(f * d, q * d)
        weightScratch = .allocate(capacity: lanes * weightScratchPerLane)
        scores = .allocate(capacity: 1)
        logits = .allocate(capacity: c.vocabularySize)
        logits.initialize(repeating: 0, count: c.vocabularySize)
        var bases: [Double] = []
        var layerRope: [Int] = []
        for l in 0..<c.layers {
            let base = c.ropeBase(layer: l)
            if let i = bases.firstIndex(of: base) { layerRope.append(i) } else { layerRope.append(bases.count); bases.append(base) }
        }
        ropeBases = bases
        self.layerRope = layerRope
        inverseFrequencies = bases.map { base in
            (0..<(c.ropeDims / 2)).map { i in pow(base, -2 * Double(i) / Double(c.ropeDims)) }
        }
        cosSin = .allocate(capacity: max(1, bases.count) * n * c.ropeDims)
        loraScratch = .allocate(capacity: 1)
    }

    deinit {
        for p in [bx, bxn, bq, battn, bgate, bup, sums, laneScratch, weightScratch, scores, cosSin, logits, loraScratch] {
            p.deallocate()
        }
    }

    /// Runs `tokens` at the cache's next positions, appends their keys and values to `cache`, and
    /// leaves the logits of the last token in `logits`.
    public func evaluate(_ tokens: [Int], cache: KVCache) throws(InferenceError) {
        _ = try evaluate(tokens, cache: cache, shouldStop: nil)
    }

    /// `evaluate`, checking `shouldStop` before each layer of each multi-token chunk so a long prompt
    /// can be abandoned promptly; returns false when it stopped early (the cache then holds part of the
    /// tokens and the logits are not computed).
    /// - Parameter computeLogits: false leaves `logits` stale: the caller then computes the ones it needs
    ///   with `computeLogits(only:)` (a grammar that allows few tokens needs few of the V rows).
    public func evaluate(_ tokens: [Int], cache: KVCache, shouldStop: (() -> Bool)?,
                         computeLogits: Bool = true) throws(InferenceError) -> Bool {
        if let adapterProblem { throw .adapterMismatch(adapterProblem) }
        return try evaluate(tokens, cache: cache, adapter: adapter, shouldStop: shouldStop, computeLogits: computeLogits)
    }

    /// `evaluate` under `adapter` (nil: the base model), given for this call only: nothing is kept on the
    /// transformer, so requests under different adapters can share it (the `adapter` property is untouched).
    public func evaluate(_ tokens: [Int], cache: KVCache, adapter: LoRAAdapter?, shouldStop: (() -> Bool)?,
                         computeLogits: Bool = true) throws(InferenceError) -> Bool {
        guard !tokens.isEmpty else { throw .emptyInput }
        if let adapter {
            if let problem = mismatch(adapter) { throw .adapterMismatch(problem) }
            reserveLoRAScratch(rank: adapter.maxRank)
        }
        for id in tokens where id < 0 || id >= c.vocabularySize {
            throw .tokenOutOfRange(id: id, vocabularySize: c.vocabularySize)
        }
        try cache.reserve(tokens.count)
        growScores(to: cache.capacity)
        var start = 0
        while start < tokens.count {
            let chunk = min(maxBatch, tokens.count - start)
            if chunk >= batchThreshold {
                guard forward(tokens[start..<(start + chunk)], cache: cache, adapter: adapter, shouldStop: shouldStop) else { return false }
                lastRow = chunk - 1
            } else {
                for i in start..<(start + chunk) { forward(tokens[i..<(i + 1)], cache: cache, adapter: adapter, shouldStop: nil) }
                lastRow = 0
            }
            start += chunk
        }
        headInputReady = false
        if computeLogits { self.computeLogits(only: nil) }
        return true
    }

    /// The logits of the last evaluation as an array.
    public func logitsArray() -> [Float] { Array(UnsafeBufferPointer(start: logits, count: c.vocabularySize)) }

    // MARK: - Logits

    /// Computes the last evaluated token's logits into `logits`: every row of the output head, or only
    /// the rows in `ids` (the other entries keep stale values). Each row's value is the same either way
    /// (one dot product per row, in the same order), so a choice among `ids` matches the full head's.
    public func computeLogits(only ids: [Int]?) {
        // logits = output · norm(bx[lastRow]) on the quantised kernels (only the last position is ever needed).
        if !headInputReady {
            let d = c.dim
            VectorMath.rmsNorm(bx + lastRow * d, gain: model.outputNorm, epsilon: c.rmsEpsilon, count: d, into: bxn)
            ActivationBlockSums.compute(bxn, blocks: d / 32, into: sums)
            headInputReady = true
        }
        let head = model.output
        guard let ids else {
            Parallel.run { lane in
                head.multiply(rows: Parallel.slice(head.rows, lane: lane, lanes: lanes), x: bxn, blockSums: sums,
                              into: logits, scratch: laneScratch + lane * laneWidth)
            }
            return
        }
        // A few rows are not worth waking the other lanes for.
        let lanesUsed = ids.count >= 1024 ? lanes : 1
        ids.withUnsafeBufferPointer { rows in
            Parallel.run { lane in
                guard lane < lanesUsed else { return }
                for k in Parallel.slice(rows.count, lane: lane, lanes: lanesUsed) {
                    let r = rows[k]
                    head.multiply(rows: r..<(r + 1), x: bxn, blockSums: sums, into: logits, scratch: laneScratch + lane * laneWidth)
                }
            }
        }
    }

    // MARK: - Shared helpers

    /// cosSin[b][i] = (cos, sin) pairs of every RoPE frequency of base b at position `firstPosition + i`.
    func fillCosSin(firstPosition: Int, count: Int) {
        let half = c.ropeDims / 2
        for (b, frequencies) in inverseFrequencies.enumerated() {
            let table = cosSin + b * maxBatch * c.ropeDims
            for i in 0..<count {
                let position = Double(firstPosition + i)
                for k in 0..<half {
                    let angle = position * frequencies[k]
                    table[i * c.ropeDims + 2 * k] = Float(cos(angle))
                    table[i * c.ropeDims + 2 * k + 1] = Float(sin(angle))
                }
            }
        }
    }

    /// The cos/sin table row of layer `layer` at chunk row `i`.
    @inline(__always)
    func ropeTable(layer: Int, row i: Int) -> UnsafePointer<Float> {
        UnsafePointer(cosSin + (layerRope[layer] * maxBatch + i) * c.ropeDims)
    }

    /// Makes `scores` hold `[maxBatch, positions]` floats per lane.
    private func growScores(to positions: Int) {
        guard positions > scoreCapacity else { return }
        scores.deallocate()
        scores = .allocate(capacity: lanes * maxBatch * positions)
        scoreCapacity = positions
    }
}
