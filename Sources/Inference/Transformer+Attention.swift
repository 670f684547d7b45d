// Causal grouped-query attention over the KV cache, with an optional sliding window.
//
// Query i of the chunk sits at position p = p0 + i and sees the cached keys at positions
// max(0, p − window + 1) … p (every earlier position when there is no window; llama.cpp's standard
// window: a key is masked when p − key ≥ window). Per head: S = Q·Kᵀ/√hd over the key range the
// chunk needs, a softmax over each row's visible part, O = S·V; sgemv for one query, sgemm for many.

import COpenBLAS

extension Transformer {
    /// Attention of the n queries in `bq` (positions p0 ..< p0+n) over the cache; result in `battn` [n, q].
    func attend(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, n: Int, firstPosition p0: Int,
                window: Int?) {
        let q = c.qDim, hd = c.headDim, kv = c.kvDim, group = c.heads / c.kvHeads
        let total = p0 + n
        // Keys from `lo` on are visible to at least one query of the chunk (the first query's window start).
        let lo = window.map { max(0, p0 - $0 + 1) } ?? 0
        let span = total - lo
        let scale = 1 / Float(hd).squareRoot()
        let k0 = keys + lo * kv, v0 = values + lo * kv
        Parallel.run { lane in
            let s = scores + lane * scoreCapacity * maxBatch     // [n, span]
            for h in Parallel.slice(c.heads, lane: lane, lanes: lanes) {
                let kvHead = h / group
                if n == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(span), Int32(hd),
                                scale, k0 + kvHead * hd, Int32(kv), bq + h * hd, 1, 0, s, 1)
                    VectorMath.softmax(s, count: span)
                    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(span), Int32(hd),
                                1, v0 + kvHead * hd, Int32(kv), s, 1, 0, battn + h * hd, 1)
                    continue
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                            Int32(n), Int32(span), Int32(hd),
                            scale, bq + h * hd, Int32(q),
                            k0 + kvHead * hd, Int32(kv),
                            0, s, Int32(span))
                for i in 0..<n {
                    let row = s + i * span
                    let position = p0 + i
                    let first = (window.map { max(0, position - $0 + 1) } ?? 0) - lo   // first visible key, in the span
                    let end = position + 1 - lo                                       // one past the last
                    (row).initialize(repeating: 0, count: first)
                    VectorMath.softmax(row + first, count: end - first)
                    (row + end).initialize(repeating: 0, count: span - end)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                            Int32(n), Int32(hd), Int32(span),
                            1, s, Int32(span),
                            v0 + kvHead * hd, Int32(kv),
                            0, battn + h * hd, Int32(q))
            }
        }
    }
}
