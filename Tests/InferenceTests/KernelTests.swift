// Every optimised kernel against its plain reference twin, on random hand-built blocks.

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

/// Random bytes shaped as `blocks` blocks of `type`, with sane f16 scales at `scaleOffsets`.
private func randomBlocks(_ type: GGMLType, blocks: Int, scaleOffsets: [Int], generator: inout SeededRandom) -> [UInt8] {
    var bytes = (0..<(blocks * type.typeSize)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for b in 0..<blocks {
        for offset in scaleOffsets {
            let scale = Float16(Float.random(in: -0.1...0.1, using: &generator))
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { raw in
                bytes[b * type.typeSize + offset] = raw[0]
                bytes[b * type.typeSize + offset + 1] = raw[1]
            }
        }
    }
    return bytes
}

private func randomVector(_ count: Int, _ generator: inout SeededRandom) -> [Float] {
    (0..<count).map { _ in Float.random(in: -2...2, using: &generator) }
}

@Suite("Quantised kernels match their reference twins")
struct KernelTests {
    static let cases: [(GGMLType, [Int])] = [(.q8_0, [0]), (.q4_1, [0, 2]), (.q4_0, [0])]

    @Test("dot products", arguments: [0, 1, 2])
    func dotProducts(caseIndex: Int) throws {
        let (type, scales) = Self.cases[caseIndex]
        var g = SeededRandom(state: 101)
        for blocks in [1, 2, 3, 18, 48] {
            let row = randomBlocks(type, blocks: blocks, scaleOffsets: scales, generator: &g)
            let x = randomVector(blocks * 32, &g)
            var sums = [Float](repeating: 0, count: blocks)
            x.withUnsafeBufferPointer { xb in sums.withUnsafeMutableBufferPointer { ActivationBlockSums.compute(xb.baseAddress!, blocks: blocks, into: $0.baseAddress!) } }
            let (fast, reference, magnitude): (Float, Float, Float) = row.withUnsafeBytes { r in
                x.withUnsafeBufferPointer { xb in
                    sums.withUnsafeBufferPointer { sb in
                        let p = r.baseAddress!, xp = xb.baseAddress!, sp = sb.baseAddress!
                        var dequantised = [Float](repeating: 0, count: blocks * 32)
                        try? Dequantize.run(type, from: r, count: blocks * 32, into: &dequantised)
                        let magnitude = zip(dequantised, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                        switch type {
                        case .q8_0: return (QuantDot.q8_0(p, xp, blocks: blocks), QuantDot.q8_0Reference(p, xp, blocks: blocks), magnitude)
                        case .q4_1: return (QuantDot.q4_1(p, xp, blockSums: sp, blocks: blocks), QuantDot.q4_1Reference(p, xp, blocks: blocks), magnitude)
                        default: return (QuantDot.q4_0(p, xp, blockSums: sp, blocks: blocks), QuantDot.q4_0Reference(p, xp, blocks: blocks), magnitude)
                        }
                    }
                }
            }
            #expect(abs(fast - reference) <= 1e-5 * max(1, magnitude), "\(type.name) \(blocks) blocks: \(fast) vs \(reference)")
        }
    }

    @Test("reference dot products agree with GGUF's reference dequantiser", arguments: [0, 1, 2])
    func referenceAgreesWithDequantiser(caseIndex: Int) throws {
        let (type, scales) = Self.cases[caseIndex]
        var g = SeededRandom(state: 102)
        let row = randomBlocks(type, blocks: 4, scaleOffsets: scales, generator: &g)
        let x = randomVector(128, &g)
        var w = [Float](repeating: 0, count: 128)
        try row.withUnsafeBytes { r in try Dequantize.run(type, from: r, count: 128, into: &w) }
        let expected = zip(w, x).reduce(Double(0)) { $0 + Double($1.0) * Double($1.1) }
        let got: Float = row.withUnsafeBytes { r in
            x.withUnsafeBufferPointer { xb in
                switch type {
                case .q8_0: return QuantDot.q8_0Reference(r.baseAddress!, xb.baseAddress!, blocks: 4)
                case .q4_1: return QuantDot.q4_1Reference(r.baseAddress!, xb.baseAddress!, blocks: 4)
                default: return QuantDot.q4_0Reference(r.baseAddress!, xb.baseAddress!, blocks: 4)
                }
            }
        }
        #expect(abs(Double(got) - expected) < 1e-3, "\(type.name): \(got) vs \(expected)")
    }

    @Test("fast dequantisers equal GGUF's reference dequantiser exactly", arguments: [0, 1, 2])
    func fastDequantise(caseIndex: Int) throws {
        let (type, scales) = Self.cases[caseIndex]
        var g = SeededRandom(state: 103)
        let blocks = 7
        let row = randomBlocks(type, blocks: blocks, scaleOffsets: scales, generator: &g)
        var reference = [Float](repeating: 0, count: blocks * 32), fast = reference
        try row.withUnsafeBytes { r in try Dequantize.run(type, from: r, count: blocks * 32, into: &reference) }
        let handled = row.withUnsafeBytes { r in fast.withUnsafeMutableBufferPointer { FastDequantize.blocks(type, r.baseAddress!, blocks: blocks, into: $0.baseAddress!) } }
        #expect(handled)
        for i in 0..<(blocks * 32) {
            #expect(abs(fast[i] - reference[i]) <= 1e-6 * max(1, abs(reference[i])), "\(type.name) weight \(i): \(fast[i]) vs \(reference[i])")
        }
    }

    @Test("the four-token Q4_1 kernel equals four single-token reference dot products")
    func q4_1FourTokens() {
        var g = SeededRandom(state: 104)
        for blocks in [1, 2, 18, 48] {
            let row = randomBlocks(.q4_1, blocks: blocks, scaleOffsets: [0, 2], generator: &g)
            let xs = (0..<4).map { _ in randomVector(blocks * 32, &g) }
            var sums = [[Float]](repeating: [Float](repeating: 0, count: blocks), count: 4)
            for t in 0..<4 { xs[t].withUnsafeBufferPointer { xb in sums[t].withUnsafeMutableBufferPointer { ActivationBlockSums.compute(xb.baseAddress!, blocks: blocks, into: $0.baseAddress!) } } }
            row.withUnsafeBytes { r in
                xs[0].withUnsafeBufferPointer { x0 in xs[1].withUnsafeBufferPointer { x1 in xs[2].withUnsafeBufferPointer { x2 in xs[3].withUnsafeBufferPointer { x3 in
                sums[0].withUnsafeBufferPointer { s0 in sums[1].withUnsafeBufferPointer { s1 in sums[2].withUnsafeBufferPointer { s2 in sums[3].withUnsafeBufferPointer { s3 in
                    let got = QuantDot.q4_1x4(r.baseAddress!, (x0.baseAddress!, x1.baseAddress!, x2.baseAddress!, x3.baseAddress!),
                                              sums: (s0.baseAddress!, s1.baseAddress!, s2.baseAddress!, s3.baseAddress!), blocks: blocks)
                    for (t, x) in [x0, x1, x2, x3].enumerated() {
                        let want = QuantDot.q4_1Reference(r.baseAddress!, x.baseAddress!, blocks: blocks)
                        #expect(abs(got[t] - want) <= 1e-4 * max(1, abs(want)), "\(blocks) blocks, token \(t): \(got[t]) vs \(want)")
                    }
                }}}}}}}}
            }
        }
    }

    @Test("f32 dot and axpy, every length 0...40")
    func floatKernels() {
        var g = SeededRandom(state: 105)
        for n in 0...40 {
            let a = randomVector(n, &g), b = randomVector(n, &g)
            let fast = QuantDot.f32(a, b, count: n), reference = QuantDot.f32Reference(a, b, count: n)
            #expect(abs(fast - reference) < 1e-4, "n=\(n)")
            var y = b
            QuantDot.axpy(0.5, a, &y, count: n)
            for i in 0..<n { #expect(abs(y[i] - (b[i] + 0.5 * a[i])) < 1e-6) }
        }
    }
}

/// The newer kernels (Q5_0, Q5_1, Q4_K, Q5_K, Q6_K): a type, its f16 scale fields, and calls into
/// the fast and reference dot products and the fast dequantiser for `blocks` blocks of the type.
struct KernelCase: CustomStringConvertible, Sendable {
    let type: GGMLType
    let scaleOffsets: [Int]
    var description: String { type.name }

    static let all: [KernelCase] = [
        KernelCase(type: .q5_0, scaleOffsets: [0]), KernelCase(type: .q5_1, scaleOffsets: [0, 2]),
        KernelCase(type: .q4_K, scaleOffsets: [0, 2]), KernelCase(type: .q5_K, scaleOffsets: [0, 2]),
        KernelCase(type: .q6_K, scaleOffsets: [208]), KernelCase(type: .q8_0, scaleOffsets: [0]),
        KernelCase(type: .q4_1, scaleOffsets: [0, 2]), KernelCase(type: .q4_0, scaleOffsets: [0]),
    ]

    /// The fast dot product alone, dispatched as `WeightMatrix.multiply` does (for the benchmark).
    @inline(__always)
    func fast(_ p: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
        switch type {
        case .q5_0: QuantDot.q5_0(p, x, blockSums: sums, blocks: blocks)
        case .q5_1: QuantDot.q5_1(p, x, blockSums: sums, blocks: blocks)
        case .q4_K: QuantDot.q4_K(p, x, blockSums: sums, blocks: blocks)
        case .q5_K: QuantDot.q5_K(p, x, blockSums: sums, blocks: blocks)
        case .q6_K: QuantDot.q6_K(p, x, blocks: blocks)
        case .q8_0: QuantDot.q8_0(p, x, blocks: blocks)
        case .q4_1: QuantDot.q4_1(p, x, blockSums: sums, blocks: blocks)
        default: QuantDot.q4_0(p, x, blockSums: sums, blocks: blocks)
        }
    }

    /// (fast, reference) dot products of the row at `p` with x (block sums `sums`).
    func dots(_ p: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> (Float, Float) {
        switch type {
        case .q5_0: (QuantDot.q5_0(p, x, blockSums: sums, blocks: blocks), QuantDot.q5_0Reference(p, x, blocks: blocks))
        case .q5_1: (QuantDot.q5_1(p, x, blockSums: sums, blocks: blocks), QuantDot.q5_1Reference(p, x, blocks: blocks))
        case .q4_K: (QuantDot.q4_K(p, x, blockSums: sums, blocks: blocks), QuantDot.q4_KReference(p, x, blocks: blocks))
        case .q5_K: (QuantDot.q5_K(p, x, blockSums: sums, blocks: blocks), QuantDot.q5_KReference(p, x, blocks: blocks))
        case .q6_K: (QuantDot.q6_K(p, x, blocks: blocks), QuantDot.q6_KReference(p, x, blocks: blocks))
        case .q8_0: (QuantDot.q8_0(p, x, blocks: blocks), QuantDot.q8_0Reference(p, x, blocks: blocks))
        case .q4_1: (QuantDot.q4_1(p, x, blockSums: sums, blocks: blocks), QuantDot.q4_1Reference(p, x, blocks: blocks))
        default: (QuantDot.q4_0(p, x, blockSums: sums, blocks: blocks), QuantDot.q4_0Reference(p, x, blocks: blocks))
        }
    }
}

/// Random blocks whose f16 scales are huge (up to ±60000) or tiny (subnormal), alternating by block.
private func extremeBlocks(_ type: GGMLType, blocks: Int, scaleOffsets: [Int], generator: inout SeededRandom) -> [UInt8] {
    var bytes = randomBlocks(type, blocks: blocks, scaleOffsets: scaleOffsets, generator: &generator)
    for b in 0..<blocks {
        for offset in scaleOffsets {
            let magnitude: Float = b % 2 == 0 ? Float.random(in: 1000...60000, using: &generator) : Float.random(in: 1e-7...6e-5, using: &generator)
            let scale = Float16(Bool.random(using: &generator) ? magnitude : -magnitude)
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { raw in
                bytes[b * type.typeSize + offset] = raw[0]
                bytes[b * type.typeSize + offset + 1] = raw[1]
            }
        }
    }
    return bytes
}

/// Dequantised weights of `row` (GGUF's reference dequantiser).
private func weights(_ type: GGMLType, _ row: [UInt8], blocks: Int) -> [Float] {
    (try? Dequantize.row(type, from: row, count: blocks * type.blockSize)) ?? []
}

/// 32-wide block sums of x.
private func blockSums(_ x: [Float]) -> [Float] {
    var sums = [Float](repeating: 0, count: x.count / 32)
    x.withUnsafeBufferPointer { xb in sums.withUnsafeMutableBufferPointer { ActivationBlockSums.compute(xb.baseAddress!, blocks: x.count / 32, into: $0.baseAddress!) } }
    return sums
}

@Suite("Q5 and K-quant kernels match their reference twins")
struct KQuantKernelTests {
    @Test("fast dot products equal the reference, normal and extreme scales, odd block counts", arguments: KernelCase.all)
    func dotProducts(_ kernel: KernelCase) throws {
        var g = SeededRandom(state: 201)
        let counts = kernel.type.blockSize == 256 ? [1, 2, 3, 4, 7, 8] : [1, 2, 3, 17, 20, 64]
        for extreme in [false, true] {
            for blocks in counts {
                let row = extreme ? extremeBlocks(kernel.type, blocks: blocks, scaleOffsets: kernel.scaleOffsets, generator: &g)
                                  : randomBlocks(kernel.type, blocks: blocks, scaleOffsets: kernel.scaleOffsets, generator: &g)
                let x = randomVector(blocks * kernel.type.blockSize, &g)
                let sums = blockSums(x)
                let (fast, reference) = row.withUnsafeBytes { r in kernel.dots(r.baseAddress!, x, sums, blocks: blocks) }
                // Float error scales with the terms summed, including the folded offsets (|w| ≥ |offset| at q = 0).
                let w = weights(kernel.type, row, blocks: blocks)
                let magnitude = zip(w, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                let bound = (w.map(abs).max() ?? 0) * x.reduce(Float(0)) { $0 + abs($1) }
                #expect(fast.isFinite && reference.isFinite)
                #expect(abs(fast - reference) <= 2e-5 * (magnitude + bound) + 1e-30,
                        "\(kernel) \(blocks) blocks\(extreme ? " extreme" : ""): \(fast) vs \(reference)")
            }
        }
    }

    @Test("reference dot products agree with GGUF's reference dequantiser", arguments: KernelCase.all)
    func referenceAgreesWithDequantiser(_ kernel: KernelCase) throws {
        var g = SeededRandom(state: 202)
        let blocks = kernel.type.blockSize == 256 ? 3 : 5
        let row = randomBlocks(kernel.type, blocks: blocks, scaleOffsets: kernel.scaleOffsets, generator: &g)
        let x = randomVector(blocks * kernel.type.blockSize, &g)
        let w = weights(kernel.type, row, blocks: blocks)
        let expected = zip(w, x).reduce(Double(0)) { $0 + Double($1.0) * Double($1.1) }
        let magnitude = zip(w, x).reduce(Double(0)) { $0 + abs(Double($1.0) * Double($1.1)) }
        let (_, reference) = row.withUnsafeBytes { r in kernel.dots(r.baseAddress!, x, blockSums(x), blocks: blocks) }
        #expect(abs(Double(reference) - expected) <= 1e-5 * max(1, magnitude), "\(kernel): \(reference) vs \(expected)")
    }

    @Test("fast dequantisers equal GGUF's reference dequantiser", arguments: KernelCase.all)
    func fastDequantise(_ kernel: KernelCase) throws {
        var g = SeededRandom(state: 203)
        for extreme in [false, true] {
            let blocks = kernel.type.blockSize == 256 ? 5 : 7
            let row = extreme ? extremeBlocks(kernel.type, blocks: blocks, scaleOffsets: kernel.scaleOffsets, generator: &g)
                              : randomBlocks(kernel.type, blocks: blocks, scaleOffsets: kernel.scaleOffsets, generator: &g)
            let reference = weights(kernel.type, row, blocks: blocks)
            var fast = [Float](repeating: .nan, count: reference.count)
            let handled = row.withUnsafeBytes { r in fast.withUnsafeMutableBufferPointer { FastDequantize.blocks(kernel.type, r.baseAddress!, blocks: blocks, into: $0.baseAddress!) } }
            #expect(handled)
            // d·q − m may round once (FMA) or twice; allow an ulp of the block's largest weight.
            let blockSize = kernel.type.blockSize
            for i in reference.indices {
                let block = reference[(i / blockSize * blockSize)..<((i / blockSize + 1) * blockSize)]
                let scale = block.map(abs).max() ?? 0
                #expect(abs(fast[i] - reference[i]) <= 4.8e-7 * scale, "\(kernel) weight \(i): \(fast[i]) vs \(reference[i])")
            }
        }
    }

    @Test("four-token Q5_0 and Q8_0 kernels equal four single-token reference dot products", arguments: [GGMLType.q5_0, .q8_0])
    func fourTokens(_ type: GGMLType) {
        var g = SeededRandom(state: 204)
        for blocks in [1, 3, 20] {
            let row = randomBlocks(type, blocks: blocks, scaleOffsets: [0], generator: &g)
            let xs = (0..<4).map { _ in randomVector(blocks * 32, &g) }
            let sums = xs.map(blockSums)
            let x = xs.flatMap { $0 }, s = sums.flatMap { $0 }
            row.withUnsafeBytes { r in
                x.withUnsafeBufferPointer { xb in
                    s.withUnsafeBufferPointer { sb in
                        let xp = (0..<4).map { xb.baseAddress! + $0 * blocks * 32 }, sp = (0..<4).map { sb.baseAddress! + $0 * blocks }
                        let got = type == .q5_0
                            ? QuantDot.q5_0x4(r.baseAddress!, (xp[0], xp[1], xp[2], xp[3]), sums: (sp[0], sp[1], sp[2], sp[3]), blocks: blocks)
                            : QuantDot.q8_0x4(r.baseAddress!, (xp[0], xp[1], xp[2], xp[3]), blocks: blocks)
                        for t in 0..<4 {
                            let want = type == .q5_0 ? QuantDot.q5_0Reference(r.baseAddress!, xp[t], blocks: blocks)
                                                     : QuantDot.q8_0Reference(r.baseAddress!, xp[t], blocks: blocks)
                            #expect(abs(got[t] - want) <= 1e-4 * max(1, abs(want)), "\(type) \(blocks) blocks, token \(t): \(got[t]) vs \(want)")
                        }
                    }
                }
            }
        }
    }
}

@Suite("Weight matrices of types the engine cannot compute")
struct KernelUnsupportedTypeTests {
    @Test("a Q5_K matrix loads, an IQ2_XXS matrix is refused at load with its type named")
    func refusedAtLoad() throws {
        var writer = GGUFWriter()
        writer.addTensor(name: "ok.weight", dims: [256, 2], type: .q5_K, data: [UInt8](repeating: 0, count: 2 * 176))
        writer.addTensor(name: "iq.weight", dims: [256, 2], type: .iq2_xxs, data: [UInt8](repeating: 0, count: 2 * 66))
        let file = try GGUFFile(bytes: writer.serialize())
        #expect(try WeightMatrix(file, "ok.weight", rows: 2, cols: 256).type == .q5_K)
        #expect(throws: InferenceError.invalidMetadata(key: "iq.weight", reason: "tensor type IQ2_XXS is not supported by this engine")) {
            try WeightMatrix(file, "iq.weight", rows: 2, cols: 256)
        }
        #expect(WeightMatrix.canCompute(.q2_K) && WeightMatrix.canCompute(.q3_K) && !WeightMatrix.canCompute(.mxfp4))
    }
}

@Suite("WeightMatrix dispatch")
struct KernelDispatchTests {
    static let types: [(GGMLType, [Int])] = [
        (.q5_0, [0]), (.q5_1, [0, 2]), (.q4_K, [0, 2]), (.q5_K, [0, 2]), (.q6_K, [208]), (.q8_0, [0]), (.q4_1, [0, 2]),
        (.q2_K, [80, 82]), (.q3_K, [108]),
    ]

    @Test("multiply and multiplyBatch (2, 3, 5 tokens) equal dot products with reference-dequantised rows")
    func dispatch() throws {
        var g = SeededRandom(state: 207)
        let rows = 5, cols = 512
        for (type, scales) in Self.types {
            var writer = GGUFWriter()
            let bytes = randomBlocks(type, blocks: rows * cols / type.blockSize, scaleOffsets: scales, generator: &g)
            writer.addTensor(name: "w", dims: [cols, rows], type: type, data: bytes)
            let file = try GGUFFile(bytes: writer.serialize())
            let w = try WeightMatrix(file, "w", rows: rows, cols: cols)
            let reference = try Dequantize.row(try #require(file.tensor(named: "w")), in: file)
            for n in [1, 2, 3, 5] {
                let x = randomVector(n * cols, &g)
                let sums = blockSums(x)
                var y = [Float](repeating: .nan, count: n * rows), scratch = [Float](repeating: 0, count: cols)
                x.withUnsafeBufferPointer { xb in sums.withUnsafeBufferPointer { sb in
                    y.withUnsafeMutableBufferPointer { yb in scratch.withUnsafeMutableBufferPointer { scr in
                        if n == 1 {
                            w.multiply(rows: 0..<rows, x: xb.baseAddress!, blockSums: sb.baseAddress!, into: yb.baseAddress!, scratch: scr.baseAddress!)
                        } else {
                            w.multiplyBatch(rows: 0..<rows, x: xb.baseAddress!, sums: sb.baseAddress!, n: n, into: yb.baseAddress!, ldy: rows, scratch: scr.baseAddress!)
                        }
                    }}
                }}
                for t in 0..<n {
                    for r in 0..<rows {
                        let products = (0..<cols).map { Double(reference[r * cols + $0]) * Double(x[t * cols + $0]) }
                        let want = products.reduce(0, +), magnitude = products.reduce(0) { $0 + abs($1) }
                        #expect(abs(Double(y[t * rows + r]) - want) <= 1e-5 * max(magnitude, 1e-6), "\(type) n=\(n) token \(t) row \(r)")
                    }
                }
            }
        }
    }
}

@Suite("Kernels on Gemma 3 270M's real rows")
struct GemmaKernelTests {
    /// One tensor of each quantised type in the file, as (name, rows, cols).
    static let tensors: [(String, Int, Int)] = [
        ("blk.0.attn_q.weight", 1024, 640), ("blk.0.attn_output.weight", 640, 1024),
        ("blk.0.ffn_down.weight", 640, 2048), ("blk.0.attn_v.weight", 256, 640),
    ]

    @Test("multiply and dequantize match float64 dot products of reference-dequantised rows")
    func realRows() throws {
        let file = try GGUFFile(path: try TestPaths.requireGemmaModel())
        var g = SeededRandom(state: 205)
        for (name, rows, cols) in Self.tensors {
            let w = try WeightMatrix(file, name, rows: rows, cols: cols)
            let x = randomVector(cols, &g), sums = blockSums(x)
            var y = [Float](repeating: 0, count: rows), scratch = [Float](repeating: 0, count: cols)
            var tile = [Float](repeating: 0, count: 3 * cols)
            let picked = [0, 1, rows / 2, rows - 2, rows - 1]
            x.withUnsafeBufferPointer { xb in sums.withUnsafeBufferPointer { sb in
                y.withUnsafeMutableBufferPointer { yb in scratch.withUnsafeMutableBufferPointer { scr in
                    w.multiply(rows: 0..<rows, x: xb.baseAddress!, blockSums: sb.baseAddress!, into: yb.baseAddress!, scratch: scr.baseAddress!)
                }}
            }}
            tile.withUnsafeMutableBufferPointer { w.dequantize(rows: (rows - 3)..<rows, into: $0.baseAddress!) }
            let reference = try Dequantize.row(try #require(file.tensor(named: name)), in: file, rows: (rows - 3)..<rows)
            for i in reference.indices {
                #expect(abs(tile[i] - reference[i]) <= 4.8e-7 * max(abs(reference[i]), 1e-3), "\(name) tile weight \(i)")
            }
            for r in picked {
                let row = try Dequantize.row(try #require(file.tensor(named: name)), in: file, rows: r..<(r + 1))
                let want = zip(row, x).reduce(Double(0)) { $0 + Double($1.0) * Double($1.1) }
                let magnitude = zip(row, x).reduce(Double(0)) { $0 + abs(Double($1.0) * Double($1.1)) }
                #expect(abs(Double(y[r]) - want) <= 1e-5 * max(magnitude, 1e-3), "\(name) (\(w.type)) row \(r): \(y[r]) vs \(want)")
            }
        }
    }
}

/// Single-thread matrix-vector throughput of each kernel on Gemma-shaped matrices of random blocks.
/// Opt-in (it takes a few seconds): TOOLROUTER_KERNEL_BENCH=1 swift test ... --filter KernelBenchmark
@Suite("Kernel benchmark", .enabled(if: ProcessInfo.processInfo.environment["TOOLROUTER_KERNEL_BENCH"] != nil))
struct KernelBenchmark {
    @Test("GB/s of weight bytes per type, one thread")
    func throughput() {
        let shapes: [(GGMLType, rows: Int, cols: Int, scales: [Int])] = [
            (.q5_0, 2048, 640, [0]), (.q6_K, 640, 2048, [208]), (.q4_K, 640, 1024, [0, 2]), (.q5_K, 640, 1024, [0, 2]),
            (.q5_1, 2048, 640, [0, 2]), (.q8_0, 2048, 640, [0]), (.q4_1, 2048, 640, [0, 2]), (.q4_0, 2048, 640, [0]),
        ]
        var g = SeededRandom(state: 206)
        print("kernel benchmark (one thread; hot = one matrix in cache, stream = rotating 96 MB of copies)")
        for (type, rows, cols, scales) in shapes {
            let blocks = cols / type.blockSize, rowBytes = blocks * type.typeSize
            let matrixBytes = rows * rowBytes
            let copies = max(1, (96 << 20) / matrixBytes)
            let one = randomBlocks(type, blocks: rows * blocks, scaleOffsets: scales, generator: &g)
            let data = UnsafeMutableRawBufferPointer.allocate(byteCount: copies * matrixBytes, alignment: 64)
            defer { data.deallocate() }
            for c in 0..<copies { one.withUnsafeBytes { data.baseAddress!.advanced(by: c * matrixBytes).copyMemory(from: $0.baseAddress!, byteCount: matrixBytes) } }
            let x = randomVector(cols, &g), sums = blockSums(x)
            var y = [Float](repeating: 0, count: rows)
            let kernel = KernelCase(type: type, scaleOffsets: scales)
            func run(copy: Int) {
                let base = UnsafeRawPointer(data.baseAddress!) + copy * matrixBytes
                x.withUnsafeBufferPointer { xb in sums.withUnsafeBufferPointer { sb in
                    y.withUnsafeMutableBufferPointer { yb in
                        for r in 0..<rows { yb[r] = kernel.fast(base + r * rowBytes, xb.baseAddress!, sb.baseAddress!, blocks: blocks) }
                    }
                }}
            }
            func measure(_ iterations: Int, rotate: Bool) -> Double {
                run(copy: 0)
                let start = ContinuousClock.now
                for i in 0..<iterations { run(copy: rotate ? i % copies : 0) }
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                return seconds / Double(iterations)
            }
            let hot = measure(300, rotate: false), stream = measure(max(3 * copies, 60), rotate: true)
            // The path these types took before their direct kernels: reference-dequantise a row, then an f32 dot.
            var scratch = [Float](repeating: 0, count: cols)
            let fallbackStart = ContinuousClock.now
            for _ in 0..<20 {
                x.withUnsafeBufferPointer { xb in scratch.withUnsafeMutableBufferPointer { sb in
                    for r in 0..<rows {
                        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(data.baseAddress!) + r * rowBytes, count: rowBytes)
                        try? Dequantize.run(type, from: bytes, count: cols, into: sb.baseAddress!)
                        y[r] = QuantDot.f32(sb.baseAddress!, xb.baseAddress!, count: cols)
                    }
                }}
            }
            let fallbackElapsed = ContinuousClock.now - fallbackStart
            let fallback = (Double(fallbackElapsed.components.seconds) + Double(fallbackElapsed.components.attoseconds) * 1e-18) / 20
            let line = "  \(type.name) \(rows)x\(cols): \(matrixBytes / 1024) KiB, hot \(format(Double(matrixBytes) / hot / 1e9)) GB/s "
                + "(\(format(hot / Double(rows) * 1e9)) ns/row), stream \(format(Double(matrixBytes) / stream / 1e9)) GB/s, "
                + "\(format(Double(rows * cols) / hot / 1e9)) Gweights/s hot; dequantise+dot fallback \(format(Double(matrixBytes) / fallback / 1e9)) GB/s"
            print(line)
            #expect(y.allSatisfy { $0.isFinite })
        }
    }

    private func format(_ v: Double) -> String { String(format: "%.2f", v) }
}

@Suite("Vector math")
struct VectorMathTests {
    @Test("exp within 4e-7 relative (about 2 ulp) of Foundation's over the model's range")
    func exponential() {
        var x = stride(from: Float(-87), through: 88, by: 0.0137).map { $0 }
        x += [0, -0.0, 1e-8, -1e-8, 0.3465, -0.3466, 0.6931]
        var fast = x, reference = x
        VectorMath.exp(&fast, count: fast.count)
        VectorMath.expReference(&reference, count: reference.count)
        var worst: Float = 0
        for i in x.indices { worst = max(worst, abs(fast[i] - reference[i]) / reference[i]) }
        #expect(worst < 4e-7, "worst relative error \(worst)")
    }

    @Test("exp clamps very negative inputs instead of producing garbage")
    func exponentialClamp() {
        var x: [Float] = Array(repeating: -1000, count: 9) + [-Float.infinity]
        VectorMath.exp(&x, count: x.count)
        for v in x { #expect(v >= 0 && v < 1e-37) }
    }

    @Test("softmax sums to one and keeps order")
    func softmax() {
        var x: [Float] = [3, 1, -2, 10, 10, 0.5, -50, 7, 2]
        VectorMath.softmax(&x, count: x.count)
        #expect(abs(x.reduce(0, +) - 1) < 1e-6)
        #expect(x[3] == x[4] && x[3] > x[7] && x[7] > x[0] && x[6] > 0)
    }

    @Test("RMSNorm matches its definition")
    func rmsNorm() {
        var g = SeededRandom(state: 106)
        let x = randomVector(64, &g), gain = randomVector(64, &g)
        var out = [Float](repeating: 0, count: 64)
        VectorMath.rmsNorm(x, gain: gain, epsilon: 1e-5, count: 64, into: &out)
        let rms = (x.reduce(Double(0)) { $0 + Double($1 * $1) } / 64 + 1e-5).squareRoot()
        for i in 0..<64 { #expect(abs(Double(out[i]) - Double(x[i]) / rms * Double(gain[i])) < 1e-5) }
    }

    @Test("RoPE rotates adjacent pairs by position × base^(-2i/d)")
    func rope() {
        let position = 7.0, base = 10000.0, dims = 8
        var cosSin = [Float]()
        for i in 0..<(dims / 2) {
            let angle = position * pow(base, -2 * Double(i) / Double(dims))
            cosSin += [Float(cos(angle)), Float(sin(angle))]
        }
        var x: [Float] = [1, 0, 0, 1, 2, 3, -1, 0.5]
        let original = x
        VectorMath.rope(&x, heads: 1, headDim: dims, ropeDims: dims, cosSin: cosSin)
        for i in 0..<(dims / 2) {
            let c = cosSin[2 * i], s = cosSin[2 * i + 1]
            #expect(abs(x[2 * i] - (original[2 * i] * c - original[2 * i + 1] * s)) < 1e-6)
            #expect(abs(x[2 * i + 1] - (original[2 * i] * s + original[2 * i + 1] * c)) < 1e-6)
        }
        // Rotation keeps each pair's length.
        #expect(abs(hypot(x[4], x[5]) - hypot(2, 3)) < 1e-5)
    }
}
