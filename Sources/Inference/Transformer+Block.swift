// The transformer block, written once for every family and every chunk size. The family's traits
// (ArchitectureTraits) switch its optional steps on: q/k/v biases, q/k head norms, post-norms, the
// activation, the RoPE pairing and base, the sliding window. In the style of llama.cpp's builders:
//
//   x  = embed(token) (· √d for Gemma)
//   per block:  h = norm(x)
//               q, k, v = Wq·h (+bq), Wk·h (+bk), Wv·h (+bv)      k, v straight into the cache
//               q, k = headNorm(q), headNorm(k)                    (Qwen3, Gemma 3)
//               q, k = rope(q), rope(k)                            base per layer
//               a = attention(q, K, V)                             causal; a window on local layers
//               o = Wo·a;  o = norm(o) (Gemma 3);  x += o
//               h = norm(x)
//               g = act(Wgate·h) ⊙ Wup·h;  o = Wdown·g;  o = norm(o) (Gemma 3);  x += o
//
// Every projection, with its bias and its LoRA term, goes through `project` (Transformer+Linear.swift).

import GGUF

extension Transformer {
    /// Runs a chunk of n ≤ maxBatch tokens at positions cache.count ..< cache.count + n under `adapter`
    /// (checked and its scratch sized by the caller); leaves their final residuals in `bx` ([n, d]).
    /// `shouldStop` is checked before each layer; when it says stop, returns false and the cache keeps
    /// its previous length (the chunk is abandoned).
    @discardableResult
    func forward(_ tokens: ArraySlice<Int>, cache: KVCache, adapter: LoRAAdapter?, shouldStop: (() -> Bool)?) -> Bool {
        let n = tokens.count, d = c.dim, kv = c.kvDim, q = c.qDim, hd = c.headDim
        let p0 = cache.count
        embed(tokens)
        fillCosSin(firstPosition: p0, count: n)
        let eps = c.rmsEpsilon, traits = c.traits
        for (l, layer) in model.layers.enumerated() {
            if let shouldStop, shouldStop() { return false }
            let keys = cache.keys(layer: l), values = cache.values(layer: l)
            let newKeys = keys + p0 * kv, newValues = values + p0 * kv   // [n, kv] rows of this chunk
            let lora = adapter?.layers[l]

            // Attention.
            normalizeRows(bx, gain: layer.attentionNorm, n: n, into: bxn)
            project(bxn, n: n,
                    Projection(layer.wq, bias: layer.bq, lora: lora?[.q], output: bq, ld: q),
                    Projection(layer.wk, bias: layer.bk, lora: lora?[.k], output: newKeys, ld: kv),
                    Projection(layer.wv, bias: layer.bv, lora: lora?[.v], output: newValues, ld: kv))
            for i in 0..<n {
                let qi = bq + i * q, ki = newKeys + i * kv
                if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
                    for h in 0..<c.heads { VectorMath.rmsNorm(qi + h * hd, gain: qNorm, epsilon: eps, count: hd, into: qi + h * hd) }
                    for h in 0..<c.kvHeads { VectorMath.rmsNorm(ki + h * hd, gain: kNorm, epsilon: eps, count: hd, into: ki + h * hd) }
                }
                let table = ropeTable(layer: l, row: i)
                VectorMath.rope(qi, heads: c.heads, headDim: hd, ropeDims: c.ropeDims, style: traits.rope, cosSin: table)
                VectorMath.rope(ki, heads: c.kvHeads, headDim: hd, ropeDims: c.ropeDims, style: traits.rope, cosSin: table)
            }
            attend(keys: keys, values: values, n: n, firstPosition: p0,
                   window: c.isSlidingWindow(layer: l) ? c.slidingWindow : nil)
            project(battn, n: n, Projection(layer.wo, lora: lora?[.o], output: bxn, ld: d))
            if let post = layer.postAttentionNorm { normalizeRows(bxn, gain: post, n: n, into: bxn) }
            for i in 0..<(n * d) { bx[i] += bxn[i] }

            // Feed-forward.
            normalizeRows(bx, gain: layer.ffnNorm, n: n, into: bxn)
            project(bxn, n: n,
                    Projection(layer.wGate, lora: lora?[.gate], output: bgate, ld: c.ffnDim),
                    Projection(layer.wUp, lora: lora?[.up], output: bup, ld: c.ffnDim),
                    activate: traits.activation)
            project(bgate, n: n, Projection(layer.wDown, lora: lora?[.down], output: bxn, ld: d))
            if let post = layer.postFFNNorm { normalizeRows(bxn, gain: post, n: n, into: bxn) }
            for i in 0..<(n * d) { bx[i] += bxn[i] }
        }
        cache.advance(by: n)
        return true
    }

    /// bx[i] = embedding row of token i, scaled by √d when the family does that.
    private func embed(_ tokens: ArraySlice<Int>) {
        let d = c.dim
        for (i, id) in tokens.enumerated() { model.embedding.dequantize(rows: id..<(id + 1), into: bx + i * d) }
        if c.traits.scalesEmbedding {
            let scale = Float(d).squareRoot()
            for i in 0..<(tokens.count * d) { bx[i] *= scale }
        }
    }

    /// out[i] = rmsNorm(x[i]) · gain for each of the n rows of width d (in place when out == x).
    @inline(__always)
    private func normalizeRows(_ x: UnsafeMutablePointer<Float>, gain: [Float], n: Int, into out: UnsafeMutablePointer<Float>) {
        let d = c.dim
        for i in 0..<n { VectorMath.rmsNorm(x + i * d, gain: gain, epsilon: c.rmsEpsilon, count: d, into: out + i * d) }
    }
}
