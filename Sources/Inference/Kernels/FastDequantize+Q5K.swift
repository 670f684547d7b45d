// AVX2 dequantisers for Q5_0, Q5_1, Q4_K, Q5_K and Q6_K (prefill tiles), built on the same
// unpacking helpers as the dot-product kernels so both read the layouts the same way.
// Each result equals `GGUF.Dequantize`'s up to float rounding of d·q − m (tests check it).

import GGUF

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension FastDequantize {
    /// Q5_0: w = d·(q − 16), written as d·q − 16d (exact for the same d, so equal to the reference).
    public static func q5_0(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        for b in 0..<blocks {
            let block = src + b * 22
            let dScalar = Float(block.loadUnaligned(as: Float16.self))
            let d = _mm256_set1_ps(dScalar), offset = _mm256_set1_ps(-16 * dScalar)
            let (q0, q1) = QuantDot.fiveBitQuants(block + 6, qh: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            store(QuantDot.unsignedFloats(q0), scale: d, offset: offset, to: dst + b * 32)
            store(QuantDot.unsignedFloats(q1), scale: d, offset: offset, to: dst + b * 32 + 16)
        }
        #else
        referenceFallback(.q5_0, src, blocks: blocks, into: dst)
        #endif
    }

    /// Q5_1: w = d·q + m.
    public static func q5_1(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        for b in 0..<blocks {
            let block = src + b * 24
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            let m = _mm256_set1_ps(Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self)))
            let (q0, q1) = QuantDot.fiveBitQuants(block + 8, qh: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            store(QuantDot.unsignedFloats(q0), scale: d, offset: m, to: dst + b * 32)
            store(QuantDot.unsignedFloats(q1), scale: d, offset: m, to: dst + b * 32 + 16)
        }
        #else
        referenceFallback(.q5_1, src, blocks: blocks, into: dst)
        #endif
    }

    /// Q4_K: w = (d·sc)·q − dmin·m per 32-weight sub-block.
    public static func q4_K(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let nibbles = _mm_set1_epi8(0x0F)
        for b in 0..<blocks {
            let block = src + b * 144
            let (scales, mins) = QuantDot.kScalesMins(block + 4)
            let subScales = QuantDot.kFloats(scales, times: Float(block.loadUnaligned(as: Float16.self)))
            let subMins = QuantDot.kFloats(mins, times: -Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self)))
            let out = dst + 256 * b
            for c in 0..<4 {
                let q0 = block.loadUnaligned(fromByteOffset: 16 + 32 * c, as: SIMD2<Int64>.self)
                let q1 = block.loadUnaligned(fromByteOffset: 32 + 32 * c, as: SIMD2<Int64>.self)
                let lowScale = _mm256_set1_ps(subScales[2 * c]), lowMin = _mm256_set1_ps(subMins[2 * c])
                let highScale = _mm256_set1_ps(subScales[2 * c + 1]), highMin = _mm256_set1_ps(subMins[2 * c + 1])
                let o = out + 64 * c
                store(QuantDot.unsignedFloats(_mm_and_si128(q0, nibbles)), scale: lowScale, offset: lowMin, to: o)
                store(QuantDot.unsignedFloats(_mm_and_si128(q1, nibbles)), scale: lowScale, offset: lowMin, to: o + 16)
                store(QuantDot.unsignedFloats(_mm_and_si128(_mm_srli_epi16(q0, 4), nibbles)), scale: highScale, offset: highMin, to: o + 32)
                store(QuantDot.unsignedFloats(_mm_and_si128(_mm_srli_epi16(q1, 4), nibbles)), scale: highScale, offset: highMin, to: o + 48)
            }
        }
        #else
        referenceFallback(.q4_K, src, blocks: blocks, into: dst)
        #endif
    }

    /// Q5_K: as Q4_K with the fifth bits from `qh`.
    public static func q5_K(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        for b in 0..<blocks {
            let block = src + b * 176
            let (scales, mins) = QuantDot.kScalesMins(block + 4)
            let subScales = QuantDot.kFloats(scales, times: Float(block.loadUnaligned(as: Float16.self)))
            let subMins = QuantDot.kFloats(mins, times: -Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self)))
            var h0 = block.loadUnaligned(fromByteOffset: 16, as: SIMD2<Int64>.self)
            var h1 = block.loadUnaligned(fromByteOffset: 32, as: SIMD2<Int64>.self)
            let out = dst + 256 * b
            for c in 0..<4 {
                let (low0, high0) = QuantDot.q5KQuants(block.loadUnaligned(fromByteOffset: 48 + 32 * c, as: SIMD2<Int64>.self), h0)
                let (low1, high1) = QuantDot.q5KQuants(block.loadUnaligned(fromByteOffset: 64 + 32 * c, as: SIMD2<Int64>.self), h1)
                h0 = _mm_srli_epi16(h0, 2)
                h1 = _mm_srli_epi16(h1, 2)
                let lowScale = _mm256_set1_ps(subScales[2 * c]), lowMin = _mm256_set1_ps(subMins[2 * c])
                let highScale = _mm256_set1_ps(subScales[2 * c + 1]), highMin = _mm256_set1_ps(subMins[2 * c + 1])
                let o = out + 64 * c
                store(QuantDot.unsignedFloats(low0), scale: lowScale, offset: lowMin, to: o)
                store(QuantDot.unsignedFloats(low1), scale: lowScale, offset: lowMin, to: o + 16)
                store(QuantDot.unsignedFloats(high0), scale: highScale, offset: highMin, to: o + 32)
                store(QuantDot.unsignedFloats(high1), scale: highScale, offset: highMin, to: o + 48)
            }
        }
        #else
        referenceFallback(.q5_K, src, blocks: blocks, into: dst)
        #endif
    }

    /// Q6_K: w = (d·sc)·(q − 32) per 16-weight sub-block.
    public static func q6_K(_ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let zero = _mm256_setzero_ps()
        for b in 0..<blocks {
            let block = src + b * 210
            let scales = QuantDot.q6KScales(block + 192, times: Float(block.loadUnaligned(fromByteOffset: 208, as: Float16.self)))
            for half in 0..<2 {
                let out = dst + 256 * b + 128 * half
                for i in 0..<2 {
                    let q = QuantDot.q6KQuants(block + 64 * half + 16 * i, block + 128 + 32 * half + 16 * i)
                    let s = 8 * half + i
                    store(QuantDot.signedFloats(q.0), scale: _mm256_set1_ps(scales[s]), offset: zero, to: out + 16 * i)
                    store(QuantDot.signedFloats(q.1), scale: _mm256_set1_ps(scales[s + 2]), offset: zero, to: out + 32 + 16 * i)
                    store(QuantDot.signedFloats(q.2), scale: _mm256_set1_ps(scales[s + 4]), offset: zero, to: out + 64 + 16 * i)
                    store(QuantDot.signedFloats(q.3), scale: _mm256_set1_ps(scales[s + 6]), offset: zero, to: out + 96 + 16 * i)
                }
            }
        }
        #else
        referenceFallback(.q6_K, src, blocks: blocks, into: dst)
        #endif
    }

    #if arch(x86_64)
    /// Writes scale·w + offset for 16 weights at `out`.
    @inline(__always)
    private static func store(_ w: (__m256, __m256), scale: __m256, offset: __m256, to out: UnsafeMutablePointer<Float>) {
        _mm256_storeu_ps(out, _mm256_fmadd_ps(scale, w.0, offset))
        _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(scale, w.1, offset))
    }
    #else
    /// Non-x86 builds: the reference dequantiser (the blocks were sized when the matrix was loaded).
    private static func referenceFallback(_ type: GGMLType, _ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        let bytes = UnsafeRawBufferPointer(start: src, count: blocks * type.typeSize)
        try? Dequantize.run(type, from: bytes, count: blocks * type.blockSize, into: dst)
    }
    #endif
}
