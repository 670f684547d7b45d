// Applying a LoRA adapter unmerged: y = W·x + s·B·(A·x) on the rows a lane owns.
//
// The low-rank term costs r·(in + out) multiply-adds per token per projection against the base
// weight's in·out. Each lane computes the whole of t = s·A·x (r values; A is shared by all output
// rows) and then only its own rows of B·t, so lanes still write disjoint memory and need no extra
// synchronisation; the duplicated A·x is r·in work, small next to the lane's share of W·x.
// Shapes: n = tokens, r = rank, in/out = the projection's input/output features.

import COpenBLAS

extension Transformer {
    /// Checks a newly set adapter against the model and sizes the per-lane LoRA scratch for it.
    func adapterChanged() {
        adapterProblem = adapter.flatMap(mismatch)
        if let adapter, adapterProblem == nil { reserveLoRAScratch(rank: adapter.maxRank) }
    }

    /// Why `adapter` cannot run on this model, or nil when it can.
    func mismatch(_ adapter: LoRAAdapter) -> String? {
        guard adapter.config != c else { return nil }
        let a = adapter.config
        return "'\(adapter.source)' was loaded for \(a.architecture) with \(a.layers) layers, width \(a.dim), "
            + "FFN \(a.ffnDim), \(a.heads)/\(a.kvHeads) heads; this model is \(c.architecture) with \(c.layers) layers, "
            + "width \(c.dim), FFN \(c.ffnDim), \(c.heads)/\(c.kvHeads) heads"
    }

    /// Grows the per-lane LoRA scratch to hold [maxBatch, rank] (it never shrinks).
    func reserveLoRAScratch(rank: Int) {
        let perLane = maxBatch * rank
        if perLane > loraScratchPerLane {
            loraScratch.deallocate()
            loraScratch = .allocate(capacity: lanes * perLane)
            loraScratchPerLane = perLane
        }
    }
}

extension LoRAWeights {
    /// Decode: y[o] += (B·t)[o] for output rows o in `rows`, where t = s·A·x.
    /// x: [inputs]; y: [outputs] (only `rows` are written); t: [rank] scratch, overwritten.
    @inline(__always)
    func addDecode(x: UnsafePointer<Float>, rows: Range<Int>, into y: UnsafeMutablePointer<Float>,
                   t: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty else { return }
        for k in 0..<rank { t[k] = scale * QuantDot.f32(aPointer + k * inputs, x, count: inputs) }   // t[k] = s·A[k, :]·x
        for k in 0..<rank {                                                                          // y[rows] += t[k]·Bᵀ[k, rows]
            QuantDot.axpy(t[k], bTransposed + k * outputs + rows.lowerBound, y + rows.lowerBound, count: rows.count)
        }
    }

    /// Prefill: Y[:, rows] += T·B[rows]ᵀ where T = s·X·Aᵀ, on sgemm.
    /// x: [n, inputs]; y: [n, ldy] (columns `rows` are updated); t: [n, rank] scratch, overwritten.
    func addBatch(x: UnsafePointer<Float>, n: Int, rows: Range<Int>, into y: UnsafeMutablePointer<Float>, ldy: Int,
                  t: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty, n > 0 else { return }
        // T[n, r] = s · X[n, in] · A[r, in]ᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(n), Int32(rank), Int32(inputs),
                    scale, x, Int32(inputs),
                    aPointer, Int32(inputs),
                    0, t, Int32(rank))
        // Y[n, rows] += T[n, r] · Bᵀ[r, rows]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(n), Int32(rows.count), Int32(rank),
                    1, t, Int32(rank),
                    bTransposed + rows.lowerBound, Int32(outputs),
                    1, y + rows.lowerBound, Int32(ldy))
    }
}
