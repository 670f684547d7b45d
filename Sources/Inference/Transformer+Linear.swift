// The one linear helper: every projection of the block goes through `project`, in the manner of
// llama.cpp's `build_lora_mm`. It computes output[n, W.rows] = input[n, W.cols] · Wᵀ (+ bias)
// (+ s·input·Aᵀ·Bᵀ when an adapter updates W) for up to three weights that share an input, in one
// parallel region: each lane owns a slice of every weight's output rows, so lanes write disjoint memory.
// The kernel under the base product depends only on n and the weight type (see Transformer.swift).

import COpenBLAS
import GGUF

extension Transformer {
    /// One weight of a `project` call and where its output goes.
    struct Projection {
        /// The weight `[rows, cols]`.
        let w: WeightMatrix
        /// A bias `[rows]` added to every output row, if any.
        let bias: [Float]?
        /// The adapter's low-rank update of this weight, if any.
        let lora: LoRAWeights?
        /// Output `[n, ld]`; columns `0..<w.rows` are written.
        let output: UnsafeMutablePointer<Float>
        /// Row stride of `output`.
        let ld: Int

        init(_ w: WeightMatrix, bias: [Float]? = nil, lora: LoRAWeights?, output: UnsafeMutablePointer<Float>, ld: Int) {
            self.w = w
            self.bias = bias
            self.lora = lora
            self.output = output
            self.ld = ld
        }
    }

    /// Runs up to three projections of the same input `[n, cols]` in one parallel region. With
    /// `activate`, `a` and `b` are the FFN's gate and up and each lane then applies the gated activation
    /// to its own rows: a.output = act(a.output) ⊙ b.output.
    func project(_ input: UnsafePointer<Float>, n: Int, _ a: Projection, _ b: Projection? = nil, _ c3: Projection? = nil,
                 activate: ArchitectureTraits.Activation? = nil) {
        let small = n <= min(smallBatch, Self.smallBatchLimit)
        let batchKernel = a.w.hasBatchKernel || b?.w.hasBatchKernel == true || c3?.w.hasBatchKernel == true
        if n == 1 || (small && batchKernel) {
            // Block sums of each input row, shared by every lane (the kernels' offset terms need them).
            let blocks = a.w.cols / 32
            for t in 0..<n { ActivationBlockSums.compute(input + t * a.w.cols, blocks: blocks, into: sums + t * blocks) }
        }
        Parallel.run { lane in
            let rows = Parallel.slice(a.w.rows, lane: lane, lanes: lanes, granule: 16)
            run(a, rows: rows, input: input, n: n, lane: lane)
            if let b { run(b, rows: Parallel.slice(b.w.rows, lane: lane, lanes: lanes, granule: 16), input: input, n: n, lane: lane) }
            if let c3 { run(c3, rows: Parallel.slice(c3.w.rows, lane: lane, lanes: lanes, granule: 16), input: input, n: n, lane: lane) }
            if let activate, let b, !rows.isEmpty {
                let scratch = laneScratch + lane * laneWidth
                for i in 0..<n {
                    let gate = a.output + i * a.ld + rows.lowerBound, up = b.output + i * b.ld + rows.lowerBound
                    switch activate {
                    case .silu: VectorMath.swiGLU(gate: gate, up: up, count: rows.count, scratch: scratch)
                    case .geluTanh: VectorMath.geluGate(gate: gate, up: up, count: rows.count, scratch: scratch)
                    }
                }
            }
        }
    }

    /// This lane's rows of one projection: base product, bias, low-rank term.
    @inline(__always)
    private func run(_ p: Projection, rows: Range<Int>, input: UnsafePointer<Float>, n: Int, lane: Int) {
        guard !rows.isEmpty else { return }
        multiply(p.w, rows: rows, input: input, n: n, output: p.output, ldOutput: p.ld, lane: lane)
        if let bias = p.bias {
            bias.withUnsafeBufferPointer { b in
                for i in 0..<n {
                    let y = p.output + i * p.ld
                    for r in rows { y[r] += b[r] }
                }
            }
        }
        if let lora = p.lora {
            let t = loraScratch + lane * loraScratchPerLane   // [n, rank]
            if n == 1 {
                lora.addDecode(x: input, rows: rows, into: p.output, t: t)
            } else {
                lora.addBatch(x: input, n: n, rows: rows, into: p.output, ldy: p.ld, t: t)
            }
        }
    }

    /// Rows `rows` of output[n, W.rows] = input[n, W.cols] · Wᵀ. One token: the matrix-vector kernel on
    /// the quantised rows. A few tokens and a type with a shared-unpack kernel: that kernel. Otherwise
    /// the lane dequantises those rows of W (in tiles for short chunks) into its own region of
    /// `weightScratch` and multiplies with sgemm; float32 weights are multiplied in place.
    private func multiply(_ w: WeightMatrix, rows: Range<Int>, input: UnsafePointer<Float>, n: Int,
                          output: UnsafeMutablePointer<Float>, ldOutput: Int, lane: Int) {
        let scratch = laneScratch + lane * laneWidth
        if n == 1 {
            w.multiply(rows: rows, x: input, blockSums: sums, into: output, scratch: scratch)
            return
        }
        if n <= min(smallBatch, Self.smallBatchLimit) && w.hasBatchKernel {
            w.multiplyBatch(rows: rows, x: input, sums: sums, n: n, into: output, ldy: ldOutput, scratch: scratch)
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
        let slice = weightScratch + lane * weightScratchPerLane
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
}
