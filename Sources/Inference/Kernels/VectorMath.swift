// Element-wise kernels of the forward pass: RMSNorm, exp, softmax, SwiGLU, RoPE.
//
// `exp` is the only approximation: an AVX2 polynomial (relative error below 4e-7, about 2 ulp, on the
// range the model uses), tested against Foundation's `exp`. Prefill calls it tens of millions of times, where
// a libm call per element would cost more than the matrix products around it.

import Foundation

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Vectorised element-wise math on float32 buffers.
public enum VectorMath {
    /// out[i] = x[i] / sqrt(mean(x²) + eps) · gain[i], for `count` elements.
    @inline(__always)
    public static func rmsNorm(_ x: UnsafePointer<Float>, gain: UnsafePointer<Float>, epsilon: Float,
                               count: Int, into out: UnsafeMutablePointer<Float>) {
        let sumSquares = QuantDot.f32(x, x, count: count)
        let scale = 1 / (sumSquares / Float(count) + epsilon).squareRoot()
        for i in 0..<count { out[i] = x[i] * scale * gain[i] }
    }

    /// Reference exp: Foundation's, element by element.
    public static func expReference(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = Foundation.exp(x[i]) }
    }

    /// x[i] = exp(x[i]) in place. Inputs below −87 give exp(−87) (≈ 1.6e-38) rather than denormals.
    public static func exp(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        #if arch(x86_64)
        while i + 8 <= count {
            _mm256_storeu_ps(x + i, exp8(_mm256_loadu_ps(x + i)))
            i += 8
        }
        #endif
        while i < count { x[i] = Foundation.exp(max(x[i], -87)); i += 1 }
    }

    #if arch(x86_64)
    /// exp of 8 lanes: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-6 polynomial, times 2^n.
    @inline(__always)
    static func exp8(_ v: __m256) -> __m256 {
        let x = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-87)), _mm256_set1_ps(88.3))
        let nInt = _mm256_cvtps_epi32(_mm256_mul_ps(x, _mm256_set1_ps(1.442695041)))  // round to nearest
        let n = _mm256_cvtepi32_ps(nInt)
        var r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125), x)           // ln2 high part
        r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06), r)            // ln2 low part
        var p = _mm256_set1_ps(1.0 / 720)
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 120))
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 24))
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 6))
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5))
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1))
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1))
        let twoToN = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(nInt, _mm256_set1_epi32(127)), 23))
        return _mm256_mul_ps(p, twoToN)
    }
    #endif

    /// Softmax of x[0..<count] in place (max-subtracted, so any finite inputs are safe).
    @inline(__always)
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maxValue = x[0]
        for i in 1..<count where x[i] > maxValue { maxValue = x[i] }
        for i in 0..<count { x[i] -= maxValue }
        exp(x, count: count)
        var sum: Float = 0
        for i in 0..<count { sum += x[i] }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// gate[i] = silu(gate[i]) · up[i] = gate / (1 + e^−gate) · up, in place, for `count` elements.
    @inline(__always)
    public static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
                              scratch: UnsafeMutablePointer<Float>) {
        for i in 0..<count { scratch[i] = -gate[i] }
        exp(scratch, count: count)
        for i in 0..<count { gate[i] = gate[i] / (1 + scratch[i]) * up[i] }
    }

    /// Rotates adjacent pairs (x[2i], x[2i+1]) of each of `heads` heads by angle·i, llama.cpp's "normal"
    /// RoPE (the GGUF converter permuted q/k rows so that this matches Hugging Face's rotate-half).
    /// `cosSin` holds cos, sin for each of the `ropeDims/2` frequencies at this position.
    @inline(__always)
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, ropeDims: Int,
                            cosSin: UnsafePointer<Float>) {
        for h in 0..<heads {
            let head = x + h * headDim
            for i in 0..<(ropeDims / 2) {
                let c = cosSin[2 * i], s = cosSin[2 * i + 1]
                let x0 = head[2 * i], x1 = head[2 * i + 1]
                head[2 * i] = x0 * c - x1 * s
                head[2 * i + 1] = x0 * s + x1 * c
            }
        }
    }
}
