// Dot products between one quantised weight row and a float32 activation vector.
//
// Each kernel has a plain scalar reference twin (`…Reference`) that spells out the block layout
// (see `GGUF/QuantBlocks.swift`); tests check every optimised kernel against its twin.
// The optimised kernels use AVX2 + FMA + F16C through Clang's intrinsics, imported into Swift,
// because Swift's generic SIMD conversions (UInt8 → Float lanes) compile to out-of-line calls.
//
// Activations stay float32: no 8-bit rounding of `x` (llama.cpp rounds to Q8_1, which moves
// logits by up to ~0.7); the model's logits then match exact math to a few hundredths.

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Quantised-row × float-vector dot products for the block types decode reads directly.
public enum QuantDot {
    // MARK: Q8_0 — block of 32: f16 d, int8 q[32]; w = d·q (34 bytes)

    /// Reference: Σ (d·q_j)·x_j over `blocks` Q8_0 blocks.
    public static func q8_0Reference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 34
            let d = Float(block.loadUnaligned(as: Float16.self))
            var blockSum: Float = 0
            for j in 0..<32 {
                blockSum += Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * x[b * 32 + j]
            }
            sum += d * blockSum
        }
        return sum
    }

    /// Optimised Q8_0 dot product (AVX2/FMA); same result as `q8_0Reference` up to float rounding.
    @inline(__always)
    public static func q8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let block = row + b * 34
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            let q0 = block.loadUnaligned(fromByteOffset: 2, as: SIMD2<Int64>.self)   // weights 0..<16
            let q1 = block.loadUnaligned(fromByteOffset: 18, as: SIMD2<Int64>.self)  // weights 16..<32
            let xb = x + b * 32
            var p0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q0)), _mm256_loadu_ps(xb))
            p0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(q0, q0))), _mm256_loadu_ps(xb + 8), p0)
            var p1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q1)), _mm256_loadu_ps(xb + 16))
            p1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(q1, q1))), _mm256_loadu_ps(xb + 24), p1)
            acc0 = _mm256_fmadd_ps(d, p0, acc0)
            acc1 = _mm256_fmadd_ps(d, p1, acc1)
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1))
        #else
        return q8_0Reference(row, x, blocks: blocks)
        #endif
    }

    // MARK: Q4_1 — block of 32: f16 d, f16 m, 16 bytes; byte j = weight j (low nibble), j+16 (high); w = d·q + m

    /// Reference: Σ (d·q_j + m)·x_j over `blocks` Q4_1 blocks.
    public static func q4_1Reference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 20
            let d = Float(block.loadUnaligned(as: Float16.self))
            let m = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
                sum += (d * Float(byte & 0x0F) + m) * x[b * 32 + j]
                sum += (d * Float(byte >> 4) + m) * x[b * 32 + j + 16]
            }
        }
        return sum
    }

    /// Optimised Q4_1 dot product. Uses Σ(d·q+m)·x = d·Σq·x + m·Σx, with `blockSums[b]` = Σ of
    /// x over block b, computed once per activation vector (see `ActivationBlockSums`).
    @inline(__always)
    public static func q4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var offsetSum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 20
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            offsetSum += Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self)) * blockSums[b]
            let (w0, w1, w2, w3) = unpackNibbles(block.loadUnaligned(fromByteOffset: 4, as: SIMD2<Int64>.self))
            let xb = x + b * 32
            let p0 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + 8), _mm256_mul_ps(w0, _mm256_loadu_ps(xb)))
            let p1 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xb + 24), _mm256_mul_ps(w2, _mm256_loadu_ps(xb + 16)))
            acc0 = _mm256_fmadd_ps(d, p0, acc0)
            acc1 = _mm256_fmadd_ps(d, p1, acc1)
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1)) + offsetSum
        #else
        return q4_1Reference(row, x, blocks: blocks)
        #endif
    }

    /// Q4_1 dot products of one row with four activation vectors at once: each block is unpacked once
    /// and applied to all four (small batches are bound by unpacking, not arithmetic). `xs[t]` and
    /// `sums[t]` are token t's activations and block sums; returns the four dot products.
    @inline(__always)
    public static func q4_1x4(_ row: UnsafeRawPointer, _ xs: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              sums: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              blocks: Int) -> SIMD4<Float> {
        #if arch(x86_64)
        var a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps()
        var offsets = SIMD4<Float>()
        for b in 0..<blocks {
            let block = row + b * 20
            let dScalar = Float(block.loadUnaligned(as: Float16.self))
            let m = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            offsets += m * SIMD4(sums.0[b], sums.1[b], sums.2[b], sums.3[b])
            let d = _mm256_set1_ps(dScalar)
            let (w0, w1, w2, w3) = unpackNibbles(block.loadUnaligned(fromByteOffset: 4, as: SIMD2<Int64>.self))
            @inline(__always) func dot(_ x: UnsafePointer<Float>) -> __m256 {
                let xb = x + b * 32
                let p = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + 8), _mm256_mul_ps(w0, _mm256_loadu_ps(xb)))
                return _mm256_fmadd_ps(w3, _mm256_loadu_ps(xb + 24), _mm256_fmadd_ps(w2, _mm256_loadu_ps(xb + 16), p))
            }
            a0 = _mm256_fmadd_ps(d, dot(xs.0), a0)
            a1 = _mm256_fmadd_ps(d, dot(xs.1), a1)
            a2 = _mm256_fmadd_ps(d, dot(xs.2), a2)
            a3 = _mm256_fmadd_ps(d, dot(xs.3), a3)
        }
        return SIMD4(horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3)) + offsets
        #else
        return SIMD4(q4_1Reference(row, xs.0, blocks: blocks), q4_1Reference(row, xs.1, blocks: blocks),
                     q4_1Reference(row, xs.2, blocks: blocks), q4_1Reference(row, xs.3, blocks: blocks))
        #endif
    }

    // MARK: Q4_0 — block of 32: f16 d, 16 bytes (same nibble order); w = d·(q − 8)

    /// Reference: Σ d·(q_j − 8)·x_j over `blocks` Q4_0 blocks.
    public static func q4_0Reference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 18
            let d = Float(block.loadUnaligned(as: Float16.self))
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                sum += d * Float(Int(byte & 0x0F) - 8) * x[b * 32 + j]
                sum += d * Float(Int(byte >> 4) - 8) * x[b * 32 + j + 16]
            }
        }
        return sum
    }

    /// Optimised Q4_0 dot product: d·Σq·x − 8·d·Σx, with per-block sums of x as for Q4_1.
    @inline(__always)
    public static func q4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var offsetSum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 18
            let dScalar = Float(block.loadUnaligned(as: Float16.self))
            let d = _mm256_set1_ps(dScalar)
            offsetSum -= 8 * dScalar * blockSums[b]
            let (w0, w1, w2, w3) = unpackNibbles(block.loadUnaligned(fromByteOffset: 2, as: SIMD2<Int64>.self))
            let xb = x + b * 32
            let p0 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + 8), _mm256_mul_ps(w0, _mm256_loadu_ps(xb)))
            let p1 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xb + 24), _mm256_mul_ps(w2, _mm256_loadu_ps(xb + 16)))
            acc0 = _mm256_fmadd_ps(d, p0, acc0)
            acc1 = _mm256_fmadd_ps(d, p1, acc1)
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1)) + offsetSum
        #else
        return q4_0Reference(row, x, blocks: blocks)
        #endif
    }

    // MARK: float32

    /// Reference float32 dot product.
    public static func f32Reference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sum: Float = 0
        for i in 0..<count { sum += a[i] * b[i] }
        return sum
    }

    /// Optimised float32 dot product (8-wide FMA); any `count`.
    @inline(__always)
    public static func f32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var i = 0
        while i + 16 <= count {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0)
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1)
            i += 16
        }
        var sum = horizontalSum(_mm256_add_ps(acc0, acc1))
        while i < count { sum += a[i] * b[i]; i += 1 }
        return sum
        #else
        return f32Reference(a, b, count: count)
        #endif
    }

    /// y[0..<count] += s · x[0..<count] (8-wide FMA).
    @inline(__always)
    public static func axpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        #if arch(x86_64)
        let sv = _mm256_set1_ps(s)
        var i = 0
        while i + 8 <= count {
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(sv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)))
            i += 8
        }
        while i < count { y[i] += s * x[i]; i += 1 }
        #else
        for i in 0..<count { y[i] += s * x[i] }
        #endif
    }

    #if arch(x86_64)
    /// The 32 weights of a 4-bit block's 16 quant bytes as floats 0...15, in order: weights 0..<8,
    /// 8..<16 (low nibbles of bytes 0..<16), 16..<24, 24..<32 (high nibbles).
    @inline(__always)
    static func unpackNibbles(_ q: SIMD2<Int64>) -> (__m256, __m256, __m256, __m256) {
        let mask = _mm_set1_epi8(0x0F)
        let lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask)
        return (_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(lo, lo))),
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(hi, hi))))
    }

    @inline(__always)
    static func horizontalSum(_ v: __m256) -> Float {
        let lanes: SIMD8<Float> = v
        let quad = lanes.lowHalf + lanes.highHalf
        let pair = quad.lowHalf + quad.highHalf
        return pair[0] + pair[1]
    }
    #endif
}

/// Per-block sums of an activation vector (32 values a block), which the Q4_0/Q4_1 kernels use
/// to fold each block's offset into one multiply.
public enum ActivationBlockSums {
    /// Writes Σ x[32b ..< 32b+32] into `sums[b]` for `blocks` blocks.
    @inline(__always)
    public static func compute(_ x: UnsafePointer<Float>, blocks: Int, into sums: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            var s: Float = 0
            for j in 0..<32 { s += x[b * 32 + j] }
            sums[b] = s
        }
    }
}
