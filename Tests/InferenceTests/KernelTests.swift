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
