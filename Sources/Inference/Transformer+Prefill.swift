// Prefill: many tokens at once, as matrix-matrix products on OpenBLAS.

import COpenBLAS
import GGUF

extension Transformer {
    /// Runs a chunk of n ≤ maxBatch tokens at positions cache.count ..< cache.count + n;
    /// leaves the last token's final residual in `x`. `shouldStop` is checked before each layer; when
    /// it says stop, returns false and the cache keeps its previous length (the chunk is abandoned).
    @discardableResult
    func prefill(_ tokens: ArraySlice<Int>, cache: KVCache, shouldStop: (() -> Bool)? = nil) -> Bool {
        let n = tokens.count, d = c.dim, kv = c.kvDim, f = c.ffnDim
        let p0 = cache.count
        for (i, id) in tokens.enumerated() { model.embedding.dequantize(rows: id..<(id + 1), into: bx + i * d) }
        fillCosSin(firstPosition: p0, count: n)
        for (l, layer) in model.layers.enumerated() {
            if let shouldStop, shouldStop() { return false }
            let keys = cache.keys(layer: l), values = cache.values(layer: l)
            let lora = adapter?.layers[l]
            // bxn[n, d] = norm(bx); bq[n, d], keys/values[p0..<p0+n, kv] = bxn · Wq/Wk/Wvᵀ (+ the adapter's s·bxn·Aᵀ·Bᵀ)
            for i in 0..<n {
                VectorMath.rmsNorm(bx + i * d, gain: layer.attentionNorm, epsilon: c.rmsEpsilon, count: d, into: bxn + i * d)
            }
            Parallel.run { lane in
                linear(layer.wq, lora?[.q], input: bxn, n: n, output: bq, ldOutput: d, lane: lane)
                linear(layer.wk, lora?[.k], input: bxn, n: n, output: keys + p0 * kv, ldOutput: kv, lane: lane)
                linear(layer.wv, lora?[.v], input: bxn, n: n, output: values + p0 * kv, ldOutput: kv, lane: lane)
            }
            for i in 0..<n {
                VectorMath.rope(bq + i * d, heads: c.heads, headDim: c.headDim, ropeDims: c.ropeDims, cosSin: cosSin + i * c.ropeDims)
                VectorMath.rope(keys + (p0 + i) * kv, heads: c.kvHeads, headDim: c.headDim, ropeDims: c.ropeDims,
                                cosSin: cosSin + i * c.ropeDims)
            }
            attendBatch(keys: keys, values: values, n: n, firstPosition: p0)
            // bx += battn · Woᵀ  (through bxn as the product's destination)
            Parallel.run { lane in
                linear(layer.wo, lora?[.o], input: battn, n: n, output: bxn, ldOutput: d, lane: lane)
            }
            for i in 0..<(n * d) { bx[i] += bxn[i] }
            // Feed-forward: bx += (silu(bxn · Wgateᵀ) ⊙ bxn · Wupᵀ) · Wdownᵀ
            for i in 0..<n {
                VectorMath.rmsNorm(bx + i * d, gain: layer.ffnNorm, epsilon: c.rmsEpsilon, count: d, into: bxn + i * d)
            }
            Parallel.run { lane in
                linear(layer.wGate, lora?[.gate], input: bxn, n: n, output: bgate, ldOutput: f, lane: lane)
                linear(layer.wUp, lora?[.up], input: bxn, n: n, output: bup, ldOutput: f, lane: lane)
                let columns = Parallel.slice(f, lane: lane, lanes: lanes, granule: 16)
                let s = laneScratch + lane * max(f, d)
                for i in 0..<n {
                    VectorMath.swiGLU(gate: bgate + i * f + columns.lowerBound, up: bup + i * f + columns.lowerBound,
                                      count: columns.count, scratch: s)
                }
            }
            Parallel.run { lane in
                linear(layer.wDown, lora?[.down], input: bgate, n: n, output: bxn, ldOutput: d, lane: lane)
            }
            for i in 0..<(n * d) { bx[i] += bxn[i] }
        }
        x.update(from: bx + (n - 1) * d, count: d)
        cache.advance(by: n)
        return true
    }

    /// This lane's share of output[n, W.rows] = input[n, W.cols] · Wᵀ (+ s·input·Aᵀ·Bᵀ when `lora` is
    /// given, on the same rows).
    private func linear(_ w: WeightMatrix, _ lora: LoRAWeights?, input: UnsafePointer<Float>, n: Int,
                        output: UnsafeMutablePointer<Float>, ldOutput: Int, lane: Int) {
        let rows = Parallel.slice(w.rows, lane: lane, lanes: lanes, granule: 16)
        guard !rows.isEmpty else { return }
        linear(w, rows: rows, input: input, n: n, output: output, ldOutput: ldOutput, lane: lane)
        if let lora {
            lora.addBatch(x: input, n: n, rows: rows, into: output, ldy: ldOutput,
                          t: loraScratch + lane * loraScratchPerLane)   // t: [n, rank]
        }
    }

    /// Rows `rows` of output[n, W.rows] = input[n, W.cols] · Wᵀ: the lane dequantises those rows of W
    /// (in tiles for short chunks) into its own region of `weightScratch` and multiplies with sgemm;
    /// float32 weights are multiplied in place.
    private func linear(_ w: WeightMatrix, rows: Range<Int>, input: UnsafePointer<Float>, n: Int,
                        output: UnsafeMutablePointer<Float>, ldOutput: Int, lane: Int) {
        if n <= min(smallBatch, Self.smallBatchLimit) && w.hasBatchKernel {
            // Small batch: multiply on the quantised rows, sharing each block's unpacking across tokens.
            let blocks = w.cols / 32
            let sums = batchSums + lane * Self.smallBatchLimit * (c.ffnDim / 32 + 1)
            for t in 0..<n { ActivationBlockSums.compute(input + t * w.cols, blocks: blocks, into: sums + t * blocks) }
            w.multiplyBatch(rows: rows, x: input, sums: sums, n: n, into: output, ldy: ldOutput,
                            scratch: laneScratch + lane * max(c.ffnDim, c.dim))
            return
        }
        if w.type == .f32 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                        Int32(n), Int32(rows.count), Int32(w.cols),
                        1, input, Int32(w.cols),
                        w.row(rows.lowerBound).assumingMemoryBound(to: Float.self), Int32(w.cols),
                        0, output + rows.lowerBound, Int32(ldOutput))
            return
        }
        let slice = weightScratch + lane * c.ffnDim * c.dim
        let tile = n <= tiledBatchLimit ? max(1, tileRows) : rows.count
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + tile)
            w.dequantize(rows: start..<end, into: slice)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                        Int32(n), Int32(end - start), Int32(w.cols),
                        1, input, Int32(w.cols),
                        slice, Int32(w.cols),
                        0, output + start, Int32(ldOutput))
            start = end
        }
    }

    /// Causal grouped-query attention for the n queries in `bq` (positions p0 ..< p0+n) over the
    /// T = p0+n cached positions; result in `battn`. Per head: S = Q·Kᵀ/√hd, row softmax over the
    /// visible prefix, O = S·V — both products on sgemm, heads split across lanes.
    private func attendBatch(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>,
                             n: Int, firstPosition p0: Int) {
        let d = c.dim, hd = c.headDim, kv = c.kvDim, group = c.heads / c.kvHeads
        let total = p0 + n
        let scale = 1 / Float(hd).squareRoot()
        Parallel.run { lane in
            let s = scores + lane * scoreCapacity * maxBatch     // [n, total]
            for h in Parallel.slice(c.heads, lane: lane, lanes: lanes) {
                let kvHead = h / group
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                            Int32(n), Int32(total), Int32(hd),
                            scale, bq + h * hd, Int32(d),
                            keys + kvHead * hd, Int32(kv),
                            0, s, Int32(total))
                for i in 0..<n {
                    let row = s + i * total
                    let visible = p0 + i + 1
                    VectorMath.softmax(row, count: visible)
                    (row + visible).initialize(repeating: 0, count: total - visible)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                            Int32(n), Int32(hd), Int32(total),
                            1, s, Int32(total),
                            values + kvHead * hd, Int32(kv),
                            0, battn + h * hd, Int32(d))
            }
        }
    }
}
