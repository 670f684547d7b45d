// Row dequantisers for the prefill path: quantised weight rows → float32, ready for `cblas_sgemm`.
//
// Q8_0, Q4_0 and Q4_1 have AVX2 versions here, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K in
// FastDequantize+Q5K.swift; every other type goes through the plain reference dequantiser in
// `GGUF.Dequantize`, which the tests also use as the twin of these.

import GGUF

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Fast block dequantisers for the types decode reads directly.
public enum FastDequantize {
    /// Dequantises `blocks` consecutive blocks of `type` from `src` into `dst` (`type.blockSize`
    /// floats a block: 32, or 256 for the K-quants).
    /// Returns false when `type` has no fast path (callers then use `GGUF.Dequantize`).
    @inline(__always)
    public static func blocks(_ type: GGMLType, _ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) -> Bool {
        switch type {
        case .q8_0: q8_0(src, blocks: blocks, into: dst)
        case .q4_1: q4_1(src, blocks: blocks, into: dst)
        case .q4_0: q4_0(src, blocks: blocks, into: dst)
        case .q5_0: q5_0(src, blocks: blocks, into: dst)
        case .q5_1: q5_1(src, blocks: blocks, into: dst)
        case .q4_K: q4_K(src, blocks: blocks, into: dst)
        case .q5_K: q5_K(src, blocks: blocks, into: dst)
        case .q6_K: q6_K(src, blocks: blocks, into: dst)
        default: return false
        }
        return true
    }

    /// Q8_0: w = d·q.
    public static func q8_0(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 34
            let out = dst + b * 32
            #if arch(x86_64)
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            let q0 = block.loadUnaligned(fromByteOffset: 2, as: SIMD2<Int64>.self)
            let q1 = block.loadUnaligned(fromByteOffset: 18, as: SIMD2<Int64>.self)
            _mm256_storeu_ps(out, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q0))))
            _mm256_storeu_ps(out + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(q0, q0)))))
            _mm256_storeu_ps(out + 16, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q1))))
            _mm256_storeu_ps(out + 24, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(q1, q1)))))
            #else
            let d = Float(block.loadUnaligned(as: Float16.self))
            for j in 0..<32 { out[j] = d * Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) }
            #endif
        }
    }

    /// Q4_1: w = d·q + m, low nibbles are weights 0..<16, high nibbles 16..<32.
    public static func q4_1(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 20
            let out = dst + b * 32
            #if arch(x86_64)
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            let m = _mm256_set1_ps(Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self)))
            let w = QuantDot.unpackNibbles(block.loadUnaligned(fromByteOffset: 4, as: SIMD2<Int64>.self))
            _mm256_storeu_ps(out, _mm256_fmadd_ps(d, w.0, m))
            _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(d, w.1, m))
            _mm256_storeu_ps(out + 16, _mm256_fmadd_ps(d, w.2, m))
            _mm256_storeu_ps(out + 24, _mm256_fmadd_ps(d, w.3, m))
            #else
            let d = Float(block.loadUnaligned(as: Float16.self))
            let m = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
                out[j] = d * Float(byte & 0x0F) + m
                out[j + 16] = d * Float(byte >> 4) + m
            }
            #endif
        }
    }

    /// Q4_0: w = d·(q − 8).
    public static func q4_0(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 18
            let out = dst + b * 32
            let dScalar = Float(block.loadUnaligned(as: Float16.self))
            #if arch(x86_64)
            let d = _mm256_set1_ps(dScalar)
            let offset = _mm256_set1_ps(-8 * dScalar)
            let w = QuantDot.unpackNibbles(block.loadUnaligned(fromByteOffset: 2, as: SIMD2<Int64>.self))
            _mm256_storeu_ps(out, _mm256_fmadd_ps(d, w.0, offset))
            _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(d, w.1, offset))
            _mm256_storeu_ps(out + 16, _mm256_fmadd_ps(d, w.2, offset))
            _mm256_storeu_ps(out + 24, _mm256_fmadd_ps(d, w.3, offset))
            #else
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                out[j] = dScalar * Float(Int(byte & 0x0F) - 8)
                out[j + 16] = dScalar * Float(Int(byte >> 4) - 8)
            }
            #endif
        }
    }
}
