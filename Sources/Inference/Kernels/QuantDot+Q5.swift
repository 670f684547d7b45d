// Q5_0 and Q5_1 dot products (Gemma 3's attention and FFN input projections are Q5_0), and the
// four-token Q5_0/Q8_0 kernels for short prefills.
//
// Block of 32 weights. Q5_0: f16 d @0, qh u32 @2, qs[16] @6 (22 bytes), w = d·(q − 16).
// Q5_1: f16 d @0, f16 m @2, qh u32 @4, qs[16] @8 (24 bytes), w = d·q + m. In both, byte j of qs
// holds the low four bits of weight j (low nibble) and weight j + 16 (high nibble), and bit i of
// the little-endian qh is the fifth bit of weight i.
//
// The fast kernels build the 32 five-bit quants as bytes (nibbles OR'ed with the spread qh bits)
// and convert them to float once. Q5_0 subtracts 16 from the bytes; Q5_1 (and the four-token Q5_0
// kernel) fold the offset into one multiply with the block's activation sum, as the Q4 kernels do.

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension QuantDot {
    // MARK: Q5_0

    /// Reference: Σ d·(q_j − 16)·x_j over `blocks` Q5_0 blocks.
    public static func q5_0Reference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 22
            let d = Float(block.loadUnaligned(as: Float16.self))
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 6 + j, as: UInt8.self)
                let q0 = Int(byte & 0x0F) | Int(qh >> UInt32(j) & 1) << 4
                let q1 = Int(byte >> 4) | Int(qh >> UInt32(j + 16) & 1) << 4
                sum += d * Float(q0 - 16) * x[b * 32 + j]
                sum += d * Float(q1 - 16) * x[b * 32 + j + 16]
            }
        }
        return sum
    }

    /// Optimised Q5_0 dot product: q − 16 is formed as a signed byte before conversion, so there is no
    /// offset term (measured no slower than folding −16·d·Σx, and without its cancellation).
    /// `blockSums` is unused; it keeps the signature of the other 32-block kernels.
    @inline(__always)
    public static func q5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        let sixteen = _mm_set1_epi8(16)
        for b in 0..<blocks {
            let block = row + b * 22
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            // q − 16 fits a signed byte, so the offset is applied before conversion (no block-sum term).
            let (q0, q1) = fiveBitQuants(block + 6, qh: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let xb = x + b * 32
            acc0 = _mm256_fmadd_ps(d, dot16(signedFloats(_mm_sub_epi8(q0, sixteen)), xb), acc0)
            acc1 = _mm256_fmadd_ps(d, dot16(signedFloats(_mm_sub_epi8(q1, sixteen)), xb + 16), acc1)
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1))
        #else
        return q5_0Reference(row, x, blocks: blocks)
        #endif
    }

    // MARK: Q5_1

    /// Reference: Σ (d·q_j + m)·x_j over `blocks` Q5_1 blocks.
    public static func q5_1Reference(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 24
            let d = Float(block.loadUnaligned(as: Float16.self))
            let m = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 8 + j, as: UInt8.self)
                let q0 = UInt32(byte & 0x0F) | (qh >> UInt32(j) & 1) << 4
                let q1 = UInt32(byte >> 4) | (qh >> UInt32(j + 16) & 1) << 4
                sum += (d * Float(q0) + m) * x[b * 32 + j]
                sum += (d * Float(q1) + m) * x[b * 32 + j + 16]
            }
        }
        return sum
    }

    /// Optimised Q5_1 dot product: d·Σq·x + m·Σx per block.
    @inline(__always)
    public static func q5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, blocks: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var offsetSum: Float = 0
        for b in 0..<blocks {
            let block = row + b * 24
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            offsetSum += Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self)) * blockSums[b]
            let (q0, q1) = fiveBitQuants(block + 8, qh: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let xb = x + b * 32
            acc0 = _mm256_fmadd_ps(d, dot16(unsignedFloats(q0), xb), acc0)
            acc1 = _mm256_fmadd_ps(d, dot16(unsignedFloats(q1), xb + 16), acc1)
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1)) + offsetSum
        #else
        return q5_1Reference(row, x, blocks: blocks)
        #endif
    }

    // MARK: Four tokens at once (short prefills)

    /// Q5_0 dot products of one row with four activation vectors: each block's quants are built and
    /// converted once for all four (see `q4_1x4`). Returns the four dot products.
    @inline(__always)
    public static func q5_0x4(_ row: UnsafeRawPointer, _ xs: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              sums: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              blocks: Int) -> SIMD4<Float> {
        #if arch(x86_64)
        var a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps()
        var offsets = SIMD4<Float>()
        for b in 0..<blocks {
            let block = row + b * 22
            let dScalar = Float(block.loadUnaligned(as: Float16.self))
            offsets -= (16 * dScalar) * SIMD4(sums.0[b], sums.1[b], sums.2[b], sums.3[b])
            let (q0, q1) = fiveBitQuants(block + 6, qh: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let low = unsignedFloats(q0), high = unsignedFloats(q1)
            let d = _mm256_set1_ps(dScalar)
            @inline(__always) func dot(_ x: UnsafePointer<Float>) -> __m256 {
                let xb = x + b * 32
                return _mm256_add_ps(dot16(low, xb), dot16(high, xb + 16))
            }
            a0 = _mm256_fmadd_ps(d, dot(xs.0), a0)
            a1 = _mm256_fmadd_ps(d, dot(xs.1), a1)
            a2 = _mm256_fmadd_ps(d, dot(xs.2), a2)
            a3 = _mm256_fmadd_ps(d, dot(xs.3), a3)
        }
        return SIMD4(horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3)) + offsets
        #else
        return SIMD4(q5_0Reference(row, xs.0, blocks: blocks), q5_0Reference(row, xs.1, blocks: blocks),
                     q5_0Reference(row, xs.2, blocks: blocks), q5_0Reference(row, xs.3, blocks: blocks))
        #endif
    }

    /// Q8_0 dot products of one row with four activation vectors, converting each block once.
    @inline(__always)
    public static func q8_0x4(_ row: UnsafeRawPointer, _ xs: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              blocks: Int) -> SIMD4<Float> {
        #if arch(x86_64)
        var a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let block = row + b * 34
            let d = _mm256_set1_ps(Float(block.loadUnaligned(as: Float16.self)))
            let low = signedFloats(block.loadUnaligned(fromByteOffset: 2, as: SIMD2<Int64>.self))
            let high = signedFloats(block.loadUnaligned(fromByteOffset: 18, as: SIMD2<Int64>.self))
            @inline(__always) func dot(_ x: UnsafePointer<Float>) -> __m256 {
                let xb = x + b * 32
                return _mm256_add_ps(dot16(low, xb), dot16(high, xb + 16))
            }
            a0 = _mm256_fmadd_ps(d, dot(xs.0), a0)
            a1 = _mm256_fmadd_ps(d, dot(xs.1), a1)
            a2 = _mm256_fmadd_ps(d, dot(xs.2), a2)
            a3 = _mm256_fmadd_ps(d, dot(xs.3), a3)
        }
        return SIMD4(horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3))
        #else
        return SIMD4(q8_0Reference(row, xs.0, blocks: blocks), q8_0Reference(row, xs.1, blocks: blocks),
                     q8_0Reference(row, xs.2, blocks: blocks), q8_0Reference(row, xs.3, blocks: blocks))
        #endif
    }

    #if arch(x86_64)
    // MARK: Shared unpacking helpers

    /// The 32 five-bit quants of a Q5 block as bytes 0...31: weights 0..<16 and 16..<32. `qs` points at
    /// the 16 nibble bytes; `qh` is the block's (little-endian) high-bit word.
    @inline(__always)
    static func fiveBitQuants(_ qs: UnsafeRawPointer, qh: UInt32) -> (SIMD2<Int64>, SIMD2<Int64>) {
        let packed = qs.loadUnaligned(as: SIMD2<Int64>.self)
        let nibbles = _mm_set1_epi8(0x0F)
        let low = _mm_and_si128(packed, nibbles), high = _mm_and_si128(_mm_srli_epi16(packed, 4), nibbles)
        // Spread the 32 bits of qh to one byte each: copy byte k of qh into bytes 8k..<8k+8, keep bit
        // (i mod 8) of byte i, and turn "bit set" into 0x10 (the quant's fifth bit).
        let word = _mm_cvtsi32_si128(Int32(bitPattern: UInt32(littleEndian: qh)))
        let bitOfByte = _mm_set_epi8(-128, 64, 32, 16, 8, 4, 2, 1, -128, 64, 32, 16, 8, 4, 2, 1)
        let fifth = _mm_set1_epi8(0x10)
        @inline(__always) func spread(_ selector: SIMD2<Int64>) -> SIMD2<Int64> {
            let bits = _mm_and_si128(_mm_shuffle_epi8(word, selector), bitOfByte)
            return _mm_and_si128(_mm_cmpeq_epi8(bits, bitOfByte), fifth)
        }
        let firstHalf = _mm_set_epi8(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
        let secondHalf = _mm_set_epi8(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2)
        return (_mm_or_si128(low, spread(firstHalf)), _mm_or_si128(high, spread(secondHalf)))
    }

    /// 16 unsigned bytes as floats: bytes 0..<8 and 8..<16.
    @inline(__always)
    static func unsignedFloats(_ v: SIMD2<Int64>) -> (__m256, __m256) {
        (_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(v, v))))
    }

    /// 16 signed bytes as floats: bytes 0..<8 and 8..<16.
    @inline(__always)
    static func signedFloats(_ v: SIMD2<Int64>) -> (__m256, __m256) {
        (_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(v, v))))
    }

    /// Lane-wise partial products of 16 weights with x[0..<16] (sum the 8 lanes for the dot product).
    @inline(__always)
    static func dot16(_ w: (__m256, __m256), _ x: UnsafePointer<Float>) -> __m256 {
        _mm256_fmadd_ps(w.1, _mm256_loadu_ps(x + 8), _mm256_mul_ps(w.0, _mm256_loadu_ps(x)))
    }
    #endif
}
