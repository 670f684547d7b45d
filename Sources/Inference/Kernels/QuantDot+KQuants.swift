// Q4_K, Q5_K and Q6_K dot products: 256-weight super-blocks with per-sub-block scales
// (Gemma 3's attn_output is Q4_K and its ffn_down Q6_K; "K_M" files mix all three).
//
// Layouts (see GGUF/QuantBlocks.swift for the full story):
//   Q4_K, 144 bytes: f16 d @0, f16 dmin @2, scales[12] @4, qs[128] @16. Eight sub-blocks of 32 with
//     6-bit scale sc and minimum m; 32-byte chunk c of qs holds sub-block 2c in its low nibbles and
//     2c+1 in its high nibbles. w = d·sc·q − dmin·m.
//   Q5_K, 176 bytes: as Q4_K with qh[32] @16 and qs[128] @48; bit j of qh[l] is the fifth bit of
//     weight l of sub-block j.
//   Q6_K, 210 bytes: ql[128] @0, qh[64] @128, int8 scales[16] @192, f16 d @208; sixteen sub-blocks
//     of 16, w = d·sc·(q − 32), quants spread over ql/qh as `q6_KReference` spells out.
//
// The Q4_K/Q5_K minimum terms use the 32-wide activation block sums: sub-block j of super-block b
// is exactly 32-block 8b + j, so Σ dmin·m·x is one 8-lane multiply per super-block.

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension QuantDot {
    // MARK: Scale decoding shared by Q4_K and Q5_K

    /// The eight 6-bit scales and minimums of a Q4_K/Q5_K block from its 12 packed bytes at `s`.
    /// Sub-blocks 0...3: low 6 bits of bytes j (scale) and j + 4 (minimum). Sub-blocks 4...7: low and
    /// high nibble of byte j + 4 (scale, minimum), with their top 2 bits in the top 2 bits of bytes
    /// j − 4 (scale) and j (minimum). Returned as bytes 0..<8 of two little-endian UInt64s.
    @inline(__always)
    static func kScalesMins(_ s: UnsafeRawPointer) -> (scales: UInt64, mins: UInt64) {
        let s0 = UInt32(littleEndian: s.loadUnaligned(as: UInt32.self))
        let s1 = UInt32(littleEndian: s.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let s2 = UInt32(littleEndian: s.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let scalesLow = s0 & 0x3F3F_3F3F
        let minsLow = s1 & 0x3F3F_3F3F
        let scalesHigh = (s2 & 0x0F0F_0F0F) | ((s0 >> 6) & 0x0303_0303) << 4
        let minsHigh = ((s2 >> 4) & 0x0F0F_0F0F) | ((s1 >> 6) & 0x0303_0303) << 4
        return (UInt64(scalesLow) | UInt64(scalesHigh) << 32, UInt64(minsLow) | UInt64(minsHigh) << 32)
    }

    /// Sub-block `j`'s scale (or minimum) byte from the packed word `kScalesMins` returns.
    @inline(__always)
    static func kByte(_ packed: UInt64, _ j: Int) -> Float { Float(UInt8(truncatingIfNeeded: packed >> UInt64(8 * j))) }

    // MARK: Q4_K

    /// Reference: Σ (d·sc·q − dmin·m)·x over `blocks` Q4_K super-blocks.
    public static func q4_KReference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 144
            let d = Float(block.loadUnaligned(as: Float16.self))
            let dmin = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            let (scales, mins) = kScalesMins(block + 4)
            for j in 0..<8 {
                let scale = d * kByte(scales, j), offset = dmin * kByte(mins, j)
                let chunk = block + 16 + 32 * (j / 2)
                for l in 0..<32 {
                    let byte = chunk.load(fromByteOffset: l, as: UInt8.self)
                    let q = j % 2 == 0 ? byte & 0x0F : byte >> 4
                    sum += (scale * Float(q) - offset) * x[b * 256 + 32 * j + l]
                }
            }
        }
        return sum
    }

    /// Optimised Q4_K dot product (AVX2/FMA). `blockSums` are the 32-wide sums of x (8 per super-block).
    @inline(__always)
    public static func q4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), offsets = _mm256_setzero_ps()
        let nibbles = _mm_set1_epi8(0x0F)
        for b in 0..<blocks {
            let block = row + b * 144
            let d = Float(block.loadUnaligned(as: Float16.self))
            let dmin = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            let (scales, mins) = kScalesMins(block + 4)
            let subScales = kFloats(scales, times: d)
            offsets = _mm256_fmadd_ps(kFloats(mins, times: dmin), _mm256_loadu_ps(blockSums + 8 * b), offsets)
            let xb = x + 256 * b
            for c in 0..<4 {
                let q0 = block.loadUnaligned(fromByteOffset: 16 + 32 * c, as: SIMD2<Int64>.self)
                let q1 = block.loadUnaligned(fromByteOffset: 32 + 32 * c, as: SIMD2<Int64>.self)
                let low0 = _mm_and_si128(q0, nibbles), low1 = _mm_and_si128(q1, nibbles)
                let high0 = _mm_and_si128(_mm_srli_epi16(q0, 4), nibbles), high1 = _mm_and_si128(_mm_srli_epi16(q1, 4), nibbles)
                let xc = xb + 64 * c
                let pLow = _mm256_add_ps(dot16(unsignedFloats(low0), xc), dot16(unsignedFloats(low1), xc + 16))
                let pHigh = _mm256_add_ps(dot16(unsignedFloats(high0), xc + 32), dot16(unsignedFloats(high1), xc + 48))
                acc0 = _mm256_fmadd_ps(_mm256_set1_ps(subScales[2 * c]), pLow, acc0)
                acc1 = _mm256_fmadd_ps(_mm256_set1_ps(subScales[2 * c + 1]), pHigh, acc1)
            }
        }
        return horizontalSum(_mm256_sub_ps(_mm256_add_ps(acc0, acc1), offsets))
        #else
        return q4_KReference(row, x, blocks: blocks)
        #endif
    }

    // MARK: Q5_K

    /// Reference: Σ (d·sc·q − dmin·m)·x over `blocks` Q5_K super-blocks, q = nibble | fifth bit << 4.
    public static func q5_KReference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 176
            let d = Float(block.loadUnaligned(as: Float16.self))
            let dmin = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            let (scales, mins) = kScalesMins(block + 4)
            for j in 0..<8 {
                let scale = d * kByte(scales, j), offset = dmin * kByte(mins, j)
                let chunk = block + 48 + 32 * (j / 2)
                for l in 0..<32 {
                    let byte = chunk.load(fromByteOffset: l, as: UInt8.self)
                    let fifth = block.load(fromByteOffset: 16 + l, as: UInt8.self) >> UInt8(j) & 1
                    let q = (j % 2 == 0 ? byte & 0x0F : byte >> 4) | fifth << 4
                    sum += (scale * Float(q) - offset) * x[b * 256 + 32 * j + l]
                }
            }
        }
        return sum
    }

    /// Optimised Q5_K dot product (AVX2/FMA), as `q4_K` with the fifth bits OR'ed into the nibbles.
    @inline(__always)
    public static func q5_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), offsets = _mm256_setzero_ps()
        for b in 0..<blocks {
            let block = row + b * 176
            let d = Float(block.loadUnaligned(as: Float16.self))
            let dmin = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            let (scales, mins) = kScalesMins(block + 4)
            let subScales = kFloats(scales, times: d)
            offsets = _mm256_fmadd_ps(kFloats(mins, times: dmin), _mm256_loadu_ps(blockSums + 8 * b), offsets)
            let xb = x + 256 * b
            var h0 = block.loadUnaligned(fromByteOffset: 16, as: SIMD2<Int64>.self)
            var h1 = block.loadUnaligned(fromByteOffset: 32, as: SIMD2<Int64>.self)
            for c in 0..<4 {
                let (low0, high0) = q5KQuants(block.loadUnaligned(fromByteOffset: 48 + 32 * c, as: SIMD2<Int64>.self), h0)
                let (low1, high1) = q5KQuants(block.loadUnaligned(fromByteOffset: 64 + 32 * c, as: SIMD2<Int64>.self), h1)
                // The next chunk's bits become bits 0 and 1 of each byte.
                h0 = _mm_srli_epi16(h0, 2)
                h1 = _mm_srli_epi16(h1, 2)
                let xc = xb + 64 * c
                let pLow = _mm256_add_ps(dot16(unsignedFloats(low0), xc), dot16(unsignedFloats(low1), xc + 16))
                let pHigh = _mm256_add_ps(dot16(unsignedFloats(high0), xc + 32), dot16(unsignedFloats(high1), xc + 48))
                acc0 = _mm256_fmadd_ps(_mm256_set1_ps(subScales[2 * c]), pLow, acc0)
                acc1 = _mm256_fmadd_ps(_mm256_set1_ps(subScales[2 * c + 1]), pHigh, acc1)
            }
        }
        return horizontalSum(_mm256_sub_ps(_mm256_add_ps(acc0, acc1), offsets))
        #else
        return q5_KReference(row, x, blocks: blocks)
        #endif
    }

    // MARK: Q6_K

    /// Reference: Σ d·sc·(q − 32)·x over `blocks` Q6_K super-blocks. In half h (128 weights) and for
    /// l < 32, with a = ql[64h + l], b = ql[64h + l + 32], c = qh[32h + l]: weight l is a's low nibble
    /// with c's bits 0–1 on top, l + 32 is b's low nibble with bits 2–3, l + 64 a's high nibble with
    /// bits 4–5, l + 96 b's high nibble with bits 6–7; sub-block k of the half is weights 16k..<16k+16.
    public static func q6_KReference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 210
            let d = Float(block.loadUnaligned(fromByteOffset: 208, as: Float16.self))
            for half in 0..<2 {
                for l in 0..<32 {
                    let a = block.load(fromByteOffset: 64 * half + l, as: UInt8.self)
                    let bb = block.load(fromByteOffset: 64 * half + l + 32, as: UInt8.self)
                    let c = block.load(fromByteOffset: 128 + 32 * half + l, as: UInt8.self)
                    let quants = [a & 0x0F | (c & 3) << 4, bb & 0x0F | (c >> 2 & 3) << 4,
                                  a >> 4 | (c >> 4 & 3) << 4, bb >> 4 | (c >> 6 & 3) << 4]
                    for (group, q) in quants.enumerated() {
                        let index = 128 * half + 32 * group + l
                        let scale = Float(block.load(fromByteOffset: 192 + 8 * half + index % 128 / 16, as: Int8.self))
                        sum += d * scale * Float(Int(q) - 32) * x[256 * b + index]
                    }
                }
            }
        }
        return sum
    }

    /// Optimised Q6_K dot product (AVX2/FMA): the −32 is applied to the bytes, so no offset term.
    @inline(__always)
    public static func q6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let block = row + b * 210
            let d = Float(block.loadUnaligned(fromByteOffset: 208, as: Float16.self))
            let scales = q6KScales(block + 192, times: d)
            for half in 0..<2 {
                let xh = x + 256 * b + 128 * half
                for i in 0..<2 {
                    let q = q6KQuants(block + 64 * half + 16 * i, block + 128 + 32 * half + 16 * i)
                    // q.k holds weights 32k + 16i ..< 32k + 16i + 16 of this half: sub-block 2k + i.
                    let s = 8 * half + i
                    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(scales[s]), dot16(signedFloats(q.0), xh + 16 * i), acc0)
                    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(scales[s + 2]), dot16(signedFloats(q.1), xh + 32 + 16 * i), acc1)
                    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(scales[s + 4]), dot16(signedFloats(q.2), xh + 64 + 16 * i), acc0)
                    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(scales[s + 6]), dot16(signedFloats(q.3), xh + 96 + 16 * i), acc1)
                }
            }
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1))
        #else
        return q6_KReference(row, x, blocks: blocks)
        #endif
    }

    #if arch(x86_64)
    // MARK: Unpacking helpers (also used by FastDequantize)

    /// Eight packed scale (or minimum) bytes as floats, each times `factor`.
    @inline(__always)
    static func kFloats(_ packed: UInt64, times factor: Float) -> SIMD8<Float> {
        let bytes = _mm_cvtsi64_si128(Int64(bitPattern: packed))
        return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), _mm256_set1_ps(factor))
    }

    /// Q5_K: 16 nibble bytes and the matching 16 qh bytes (shifted so this chunk's bits are bits 0
    /// and 1) → the five-bit quants of the chunk's low-nibble and high-nibble sub-blocks.
    @inline(__always)
    static func q5KQuants(_ packed: SIMD2<Int64>, _ qh: SIMD2<Int64>) -> (SIMD2<Int64>, SIMD2<Int64>) {
        let nibbles = _mm_set1_epi8(0x0F), fifth = _mm_set1_epi8(0x10)
        // Within each 16-bit lane the shifts move bit 0 (or 1) of both bytes to bit 4 of the same byte.
        let low = _mm_or_si128(_mm_and_si128(packed, nibbles), _mm_and_si128(_mm_slli_epi16(qh, 4), fifth))
        let high = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(packed, 4), nibbles), _mm_and_si128(_mm_slli_epi16(qh, 3), fifth))
        return (low, high)
    }

    /// Q6_K: 16 bytes of `ql` at `ql` (a), 16 at `ql + 32` (b) and 16 of `qh` at `qh` (c) → four
    /// vectors of 16 signed quants q − 32 for weights +0, +32, +64, +96 of the half.
    @inline(__always)
    static func q6KQuants(_ ql: UnsafeRawPointer, _ qh: UnsafeRawPointer) -> (SIMD2<Int64>, SIMD2<Int64>, SIMD2<Int64>, SIMD2<Int64>) {
        let a = ql.loadUnaligned(as: SIMD2<Int64>.self), b = ql.loadUnaligned(fromByteOffset: 32, as: SIMD2<Int64>.self)
        let c = qh.loadUnaligned(as: SIMD2<Int64>.self)
        let nibbles = _mm_set1_epi8(0x0F), top = _mm_set1_epi8(0x30), bias = _mm_set1_epi8(32)
        // Each 2-bit field of c moves to bits 4–5; 16-bit shifts only leak bits that the mask drops.
        let q0 = _mm_or_si128(_mm_and_si128(a, nibbles), _mm_and_si128(_mm_slli_epi16(c, 4), top))
        let q1 = _mm_or_si128(_mm_and_si128(b, nibbles), _mm_and_si128(_mm_slli_epi16(c, 2), top))
        let q2 = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(a, 4), nibbles), _mm_and_si128(c, top))
        let q3 = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(b, 4), nibbles), _mm_and_si128(_mm_srli_epi16(c, 2), top))
        return (_mm_sub_epi8(q0, bias), _mm_sub_epi8(q1, bias), _mm_sub_epi8(q2, bias), _mm_sub_epi8(q3, bias))
    }

    /// Q6_K's 16 signed 8-bit scales at `s`, each times `d`.
    @inline(__always)
    static func q6KScales(_ s: UnsafeRawPointer, times d: Float) -> SIMD16<Float> {
        let bytes = s.loadUnaligned(as: SIMD2<Int64>.self)
        let (low, high) = signedFloats(bytes)
        let factor = _mm256_set1_ps(d)
        let lowScaled: SIMD8<Float> = _mm256_mul_ps(low, factor), highScaled: SIMD8<Float> = _mm256_mul_ps(high, factor)
        return SIMD16(lowHalf: lowScaled, highHalf: highScaled)
    }
    #endif
}
