// The element-wise kernels that differ between families, against float64 formulas.

import Foundation
import Testing
import TestSupport
@testable import Inference

@Suite("Family kernels: GELU gate and both RoPE pairings")
struct FamilyKernelTests {
    @Test("geluGate matches ½g(1 + tanh(√(2/π)(g + 0.044715g³)))·up in float64, tails included")
    func geluGate() {
        var generator = SeededRandom(state: 7)
        var gate = (0..<203).map { _ in Float.random(in: -12...12, using: &generator) }
        gate += [0, -0.0, 1e-6, -1e-6, 50, -50, 90, -90]
        let up = gate.map { _ in Float.random(in: -3...3, using: &generator) }
        var out = gate
        var scratch = [Float](repeating: 0, count: gate.count)
        VectorMath.geluGate(gate: &out, up: up, count: gate.count, scratch: &scratch)
        for i in gate.indices {
            let g = Double(gate[i])
            let want = 0.5 * g * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g))) * Double(up[i])
            #expect(abs(Double(out[i]) - want) <= 1e-5 * max(1, abs(want)), "g = \(g): \(out[i]) vs \(want)")
        }
    }

    @Test("RoPE rotates (2i, 2i+1) in adjacent-pair style and (i, i + rd/2) in halves style")
    func ropeStyles() {
        let heads = 2, headDim = 8, ropeDims = 6, position = 5.0, base = 10_000.0
        var cosSin: [Float] = []
        for i in 0..<(ropeDims / 2) {
            let angle = position * pow(base, -2 * Double(i) / Double(ropeDims))
            cosSin += [Float(cos(angle)), Float(sin(angle))]
        }
        let x: [Float] = (0..<(heads * headDim)).map { Float($0) * 0.25 - 1.5 }
        for style in [ArchitectureTraits.RoPEStyle.adjacentPairs, .halves] {
            var y = x
            VectorMath.rope(&y, heads: heads, headDim: headDim, ropeDims: ropeDims, style: style, cosSin: cosSin)
            for h in 0..<heads {
                var want = Array(x[(h * headDim)..<((h + 1) * headDim)])
                for i in 0..<(ropeDims / 2) {
                    let (a, b) = style == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + ropeDims / 2)
                    let angle = position * pow(base, -2 * Double(i) / Double(ropeDims))
                    let x0 = Double(want[a]), x1 = Double(want[b])
                    want[a] = Float(x0 * cos(angle) - x1 * sin(angle))
                    want[b] = Float(x0 * sin(angle) + x1 * cos(angle))
                }
                for j in 0..<headDim {
                    #expect(abs(y[h * headDim + j] - want[j]) < 1e-5, "\(style) head \(h) dim \(j)")
                }
            }
        }
    }
}
