// Element-wise kernels that differ between model families: RoPE's two pairings and the GELU gate.

import Foundation

extension VectorMath {
    /// Rotates the first `ropeDims` dimensions of each of `heads` heads (`headDim` apart) in place.
    /// `cosSin` holds (cos, sin) of each of the `ropeDims/2` frequencies at this position; frequency i
    /// turns the pair (2i, 2i+1) in `.adjacentPairs` style and the pair (i, i + ropeDims/2) in
    /// `.halves` style (llama.cpp's NEOX mode, Hugging Face's rotate-half).
    @inline(__always)
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, ropeDims: Int,
                            style: ArchitectureTraits.RoPEStyle, cosSin: UnsafePointer<Float>) {
        let half = ropeDims / 2
        for h in 0..<heads {
            let head = x + h * headDim
            for i in 0..<half {
                let c = cosSin[2 * i], s = cosSin[2 * i + 1]
                let (a, b) = style == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + half)
                let x0 = head[a], x1 = head[b]
                head[a] = x0 * c - x1 * s
                head[b] = x0 * s + x1 * c
            }
        }
    }

    /// gate[i] = gelu(gate[i]) · up[i] in place, GELU in its tanh form:
    /// gelu(g) = ½g(1 + tanh(u)), u = √(2/π)(g + 0.044715g³), with tanh(u) = 1 − 2/(1 + e^{2u}) on the
    /// vectorised `exp` (whose clamping keeps both tails finite: tanh → ±1).
    @inline(__always)
    public static func geluGate(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
                                scratch: UnsafeMutablePointer<Float>) {
        let k: Float = 0.7978845608028654   // √(2/π)
        for i in 0..<count {
            let g = gate[i]
            scratch[i] = 2 * k * (g + 0.044715 * g * g * g)
        }
        exp(scratch, count: count)
        for i in 0..<count {
            let tanh = 1 - 2 / (1 + scratch[i])
            gate[i] = 0.5 * gate[i] * (1 + tanh) * up[i]
        }
    }
}
