// The Llama forward pass. Two paths compute the same function:
//   decode  (one token):   quantised matrix-vector kernels that read Q4_1/Q8_0 blocks in place;
//   prefill (2+ tokens):   up to `smallBatch` tokens, a quantised kernel that unpacks each block once
//                          for four tokens; beyond that, weights dequantised to float32 and multiplied
//                          with `cblas_sgemm` — in cache-sized tiles of rows for short chunks (a request's
//                          own tokens), a whole slice at a time for long ones. Attention is two sgemms per head.
// Both split work across the cores with `Parallel`; OpenBLAS itself runs single-threaded.
//
// Shapes use n = tokens in the batch, T = positions in the cache after the batch, d = dim,
// kv = kvDim, f = ffnDim, hd = headDim, V = vocabulary size.

import COpenBLAS
import Foundation
import GGUF

/// Runs a `LlamaModel` over tokens, updating a `KVCache`, and leaves the next-token logits in `logits`.
/// Owns all scratch memory, so evaluating allocates nothing. Not thread-safe: one caller at a time.
public final class Transformer {
    /// The model this runs.
    public let model: LlamaModel
    /// Largest number of tokens one prefill chunk holds; longer inputs run in several chunks.
    public let maxBatch: Int
    /// Inputs shorter than this run token by token on the decode kernels.
    public var batchThreshold: Int = 2
    /// Prefill chunks up to this size multiply on the quantised weights directly (each block unpacked
    /// once for four tokens); larger ones dequantise and use sgemm. Measured crossover on a 2-core
    /// Zen 4: the kernel wins at 4 tokens, tiled sgemm from 6 (BENCHMARKS.md).
    public var smallBatch: Int = 5
    /// Chunks up to this size dequantise `tileRows` rows at a time, so each tile is still in L2 when
    /// sgemm reads it; longer chunks amortise the round trip through memory and dequantise whole slices.
    public var tiledBatchLimit: Int = 40
    /// Rows per dequantised tile (32 rows × 1536 columns of float32 is 192 KiB).
    public var tileRows: Int = 32
    /// A LoRA adapter applied unmerged to every projection it updates (y = W·x + s·B·(A·x)), on the
    /// decode and prefill paths alike; nil runs the base model. It must have been loaded for this
    /// model's configuration, else `evaluate` throws `.adapterMismatch`. Keys and values depend on
    /// the adapter: a KV cache filled under one adapter must not be continued under another.
    public var adapter: LoRAAdapter? { didSet { adapterChanged() } }
    let c: ModelConfig
    let lanes: Int
    /// Upper bound of `smallBatch` (sizes `batchSums`).
    static let smallBatchLimit = 64

    // Decode buffers, one token.
    let x: UnsafeMutablePointer<Float>          // [d] residual stream
    let xn: UnsafeMutablePointer<Float>         // [d] normalised
    let q: UnsafeMutablePointer<Float>          // [d] queries
    let attn: UnsafeMutablePointer<Float>       // [d] attention output, before wo
    let gate: UnsafeMutablePointer<Float>       // [f]
    let up: UnsafeMutablePointer<Float>         // [f]
    let sums: UnsafeMutablePointer<Float>       // [f/32] block sums of the current matvec input
    let laneScratch: UnsafeMutablePointer<Float> // [lanes][f] per-lane temporaries
    /// Next-token logits after the last `evaluate`: `[V]`.
    public let logits: UnsafeMutablePointer<Float>

    // Prefill buffers, maxBatch tokens.
    let bx: UnsafeMutablePointer<Float>         // [n, d] residual stream
    let bxn: UnsafeMutablePointer<Float>        // [n, d] normalised
    let bq: UnsafeMutablePointer<Float>         // [n, d] queries
    let battn: UnsafeMutablePointer<Float>      // [n, d] attention output
    let bgate: UnsafeMutablePointer<Float>      // [n, f]
    let bup: UnsafeMutablePointer<Float>        // [n, f]
    let weightScratch: UnsafeMutablePointer<Float> // [lanes][f * d] each lane's dequantised row slice
    let batchSums: UnsafeMutablePointer<Float>  // [lanes][smallBatchLimit, f/32] block sums of a small batch
    /// Attention scores, per lane: [n, T] in prefill, [T] in decode. Grown to the cache capacity.
    var scores: UnsafeMutablePointer<Float>
    var scoreCapacity: Int = 0                  // positions `scores` holds per row
    let inverseFrequencies: [Double]            // [ropeDims/2] base^(-2i/ropeDims)
    let cosSin: UnsafeMutablePointer<Float>     // [maxBatch, ropeDims] cos, sin pairs per position

    // LoRA buffers, sized for the current adapter.
    /// Per lane: [maxBatch, maxRank] T = s·X·Aᵀ in prefill, [maxRank] t = s·A·x in decode.
    var loraScratch: UnsafeMutablePointer<Float>
    var loraScratchPerLane: Int = 0             // floats of `loraScratch` each lane owns
    /// Why `adapter` cannot run on this model (nil when it can, or when there is none).
    var adapterProblem: String?

    /// Allocates scratch for batches of up to `maxBatch` tokens.
    public init(model: LlamaModel, maxBatch: Int = 512) {
        openblas_set_num_threads(1)   // the engine parallelises around sgemm itself
        self.model = model
        self.c = model.config
        self.maxBatch = max(1, maxBatch)
        self.lanes = Parallel.lanes
        let d = c.dim, f = c.ffnDim, n = self.maxBatch
        x = .allocate(capacity: d); xn = .allocate(capacity: d); q = .allocate(capacity: d)
        attn = .allocate(capacity: d); gate = .allocate(capacity: f); up = .allocate(capacity: f)
        sums = .allocate(capacity: f / 32 + 1)
        laneScratch = .allocate(capacity: lanes * max(f, d))
        logits = .allocate(capacity: c.vocabularySize)
        logits.initialize(repeating: 0, count: c.vocabularySize)
        bx = .allocate(capacity: n * d); bxn = .allocate(capacity: n * d); bq = .allocate(capacity: n * d)
        battn = .allocate(capacity: n * d); bgate = .allocate(capacity: n * f); bup = .allocate(capacity: n * f)
        weightScratch = .allocate(capacity: lanes * f * d)
        batchSums = .allocate(capacity: lanes * Self.smallBatchLimit * (f / 32 + 1))
        scores = .allocate(capacity: 1)
        let config = model.config
        inverseFrequencies = (0..<(config.ropeDims / 2)).map { i in
            pow(config.ropeBase, -2 * Double(i) / Double(config.ropeDims))
        }
        cosSin = .allocate(capacity: n * config.ropeDims)
        loraScratch = .allocate(capacity: 1)
    }

    deinit {
        for p in [x, xn, q, attn, gate, up, sums, laneScratch, logits, bx, bxn, bq, battn, bgate, bup,
                  weightScratch, batchSums, scores, cosSin, loraScratch] { p.deallocate() }
    }

    /// Runs `tokens` at the cache's next positions, appends their keys and values to `cache`, and
    /// leaves the logits of the last token in `logits`.
    public func evaluate(_ tokens: [Int], cache: KVCache) throws(InferenceError) {
        _ = try evaluate(tokens, cache: cache, shouldStop: nil)
    }

    /// `evaluate`, checking `shouldStop` before each layer of each prefill chunk so a long prompt can be
    /// abandoned promptly; returns false when it stopped early (the cache then holds part of the tokens
    /// and the logits are not computed).
    public func evaluate(_ tokens: [Int], cache: KVCache, shouldStop: (() -> Bool)?) throws(InferenceError) -> Bool {
        guard !tokens.isEmpty else { throw .emptyInput }
        if let adapterProblem { throw .adapterMismatch(adapterProblem) }
        for id in tokens where id < 0 || id >= c.vocabularySize {
            throw .tokenOutOfRange(id: id, vocabularySize: c.vocabularySize)
        }
        try cache.reserve(tokens.count)
        growScores(to: cache.capacity)
        var start = 0
        while start < tokens.count {
            let chunk = min(maxBatch, tokens.count - start)
            if chunk >= batchThreshold {
                guard prefill(tokens[start..<(start + chunk)], cache: cache, shouldStop: shouldStop) else { return false }
            } else {
                for id in tokens[start..<(start + chunk)] { decode(id, cache: cache) }
            }
            start += chunk
        }
        computeLogits()
        return true
    }

    /// The logits of the last evaluation as an array.
    public func logitsArray() -> [Float] { Array(UnsafeBufferPointer(start: logits, count: c.vocabularySize)) }

    // MARK: - Decode: one token

    /// One token at position `cache.count`; leaves its final residual in `x`.
    func decode(_ token: Int, cache: KVCache) {
        let d = c.dim, kv = c.kvDim, f = c.ffnDim, hd = c.headDim
        let pos = cache.count
        model.embedding.dequantize(rows: token..<(token + 1), into: x)
        fillCosSin(firstPosition: pos, count: 1)
        for (l, layer) in model.layers.enumerated() {
            let keys = cache.keys(layer: l), values = cache.values(layer: l)
            let k = keys + pos * kv, v = values + pos * kv
            let lora = adapter?.layers[l]
            // Attention: xn = norm(x); q, k, v = Wq·xn, Wk·xn, Wv·xn (k, v straight into the cache),
            // each plus s·B·(A·xn) when the adapter updates it.
            VectorMath.rmsNorm(x, gain: layer.attentionNorm, epsilon: c.rmsEpsilon, count: d, into: xn)
            ActivationBlockSums.compute(xn, blocks: d / 32, into: sums)
            Parallel.run { lane in
                let s = laneScratch + lane * max(f, d)
                let t = loraScratch + lane * loraScratchPerLane   // [rank] s·A·xn
                let qRows = Parallel.slice(d, lane: lane, lanes: lanes), kvRows = Parallel.slice(kv, lane: lane, lanes: lanes)
                layer.wq.multiply(rows: qRows, x: xn, blockSums: sums, into: q, scratch: s)
                if let w = lora?[.q] { w.addDecode(x: xn, rows: qRows, into: q, t: t) }
                layer.wk.multiply(rows: kvRows, x: xn, blockSums: sums, into: k, scratch: s)
                if let w = lora?[.k] { w.addDecode(x: xn, rows: kvRows, into: k, t: t) }
                layer.wv.multiply(rows: kvRows, x: xn, blockSums: sums, into: v, scratch: s)
                if let w = lora?[.v] { w.addDecode(x: xn, rows: kvRows, into: v, t: t) }
            }
            VectorMath.rope(q, heads: c.heads, headDim: hd, ropeDims: c.ropeDims, cosSin: cosSin)
            VectorMath.rope(k, heads: c.kvHeads, headDim: hd, ropeDims: c.ropeDims, cosSin: cosSin)
            attendOne(keys: keys, values: values, positions: pos + 1)
            // x += Wo·attn
            ActivationBlockSums.compute(attn, blocks: d / 32, into: sums)
            Parallel.run { lane in
                let rows = Parallel.slice(d, lane: lane, lanes: lanes)
                layer.wo.multiply(rows: rows, x: attn, blockSums: sums, into: xn, scratch: laneScratch + lane * max(f, d))
                if let w = lora?[.o] { w.addDecode(x: attn, rows: rows, into: xn, t: loraScratch + lane * loraScratchPerLane) }
                for i in rows { x[i] += xn[i] }
            }
            // Feed-forward: x += Wdown·(silu(Wgate·xn) ⊙ Wup·xn)
            VectorMath.rmsNorm(x, gain: layer.ffnNorm, epsilon: c.rmsEpsilon, count: d, into: xn)
            ActivationBlockSums.compute(xn, blocks: d / 32, into: sums)
            Parallel.run { lane in
                let rows = Parallel.slice(f, lane: lane, lanes: lanes, granule: 8)
                let s = laneScratch + lane * max(f, d)
                let t = loraScratch + lane * loraScratchPerLane   // [rank] s·A·xn
                layer.wGate.multiply(rows: rows, x: xn, blockSums: sums, into: gate, scratch: s)
                if let w = lora?[.gate] { w.addDecode(x: xn, rows: rows, into: gate, t: t) }
                layer.wUp.multiply(rows: rows, x: xn, blockSums: sums, into: up, scratch: s)
                if let w = lora?[.up] { w.addDecode(x: xn, rows: rows, into: up, t: t) }
                VectorMath.swiGLU(gate: gate + rows.lowerBound, up: up + rows.lowerBound, count: rows.count, scratch: s)
            }
            ActivationBlockSums.compute(gate, blocks: f / 32, into: sums)
            Parallel.run { lane in
                let rows = Parallel.slice(d, lane: lane, lanes: lanes)
                layer.wDown.multiply(rows: rows, x: gate, blockSums: sums, into: xn, scratch: laneScratch + lane * max(f, d))
                if let w = lora?[.down] { w.addDecode(x: gate, rows: rows, into: xn, t: loraScratch + lane * loraScratchPerLane) }
                for i in rows { x[i] += xn[i] }
            }
        }
        cache.advance(by: 1)
    }

    /// Grouped-query attention of the single query `q` over `positions` cached keys; result in `attn`.
    /// Per head: s = K·q/√hd (sgemv), softmax, out = Vᵀ·s (sgemv); heads split across lanes.
    private func attendOne(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, positions: Int) {
        let hd = c.headDim, kv = c.kvDim, group = c.heads / c.kvHeads
        let scale = 1 / Float(hd).squareRoot()
        Parallel.run { lane in
            let s = scores + lane * scoreCapacity * maxBatch     // [positions]
            for h in Parallel.slice(c.heads, lane: lane, lanes: lanes) {
                let kvHead = h / group
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(positions), Int32(hd),
                            scale, keys + kvHead * hd, Int32(kv), q + h * hd, 1, 0, s, 1)
                VectorMath.softmax(s, count: positions)
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(positions), Int32(hd),
                            1, values + kvHead * hd, Int32(kv), s, 1, 0, attn + h * hd, 1)
            }
        }
    }

    // MARK: - Logits

    /// logits = output · norm(x), on the quantised kernels (only the last position is ever needed).
    private func computeLogits() {
        let d = c.dim
        VectorMath.rmsNorm(x, gain: model.outputNorm, epsilon: c.rmsEpsilon, count: d, into: xn)
        ActivationBlockSums.compute(xn, blocks: d / 32, into: sums)
        let head = model.output
        Parallel.run { lane in
            head.multiply(rows: Parallel.slice(head.rows, lane: lane, lanes: lanes), x: xn, blockSums: sums,
                          into: logits, scratch: laneScratch + lane * max(c.ffnDim, d))
        }
    }

    // MARK: - Shared helpers

    /// cosSin[i] = (cos, sin) pairs of every RoPE frequency at position `firstPosition + i`.
    func fillCosSin(firstPosition: Int, count: Int) {
        let half = c.ropeDims / 2
        for i in 0..<count {
            let position = Double(firstPosition + i)
            for k in 0..<half {
                let angle = position * inverseFrequencies[k]
                cosSin[i * c.ropeDims + 2 * k] = Float(cos(angle))
                cosSin[i * c.ropeDims + 2 * k + 1] = Float(sin(angle))
            }
        }
    }

    /// Makes `scores` hold `[maxBatch, positions]` floats per lane.
    private func growScores(to positions: Int) {
        guard positions > scoreCapacity else { return }
        scores.deallocate()
        scores = .allocate(capacity: lanes * maxBatch * positions)
        scoreCapacity = positions
    }
}
