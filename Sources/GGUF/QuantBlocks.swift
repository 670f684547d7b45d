// The ggml tensor types this package reads, and the byte layout of one block of each.
//
// A tensor's innermost dimension is cut into blocks of `blockSize` weights; each block is stored in
// `typeSize` bytes. All multi-byte fields are little-endian and blocks are packed with no padding,
// so fields may sit at odd addresses (read them with `loadUnaligned`). The layouts below follow
// ggml's ggml-common.h; `GGMLType.blockLayout` lists them as data so tests can check the sizes.

/// One field of a block: a name for people, its byte offset in the block, and its size in bytes.
public struct BlockField: Sendable, Equatable {
    /// Field name as in ggml-common.h, with its element type.
    public let name: String
    /// Byte offset from the start of the block.
    public let offset: Int
    /// Size in bytes.
    public let size: Int

    /// Creates a field description.
    public init(_ name: String, _ offset: Int, _ size: Int) {
        self.name = name
        self.offset = offset
        self.size = size
    }
}

/// Q4_0, 18 bytes for 32 weights: `d` f16 @0, `qs[16]` @2.
/// Byte `j` of `qs` holds weight `j` in its low nibble and weight `j + 16` in its high nibble;
/// w = d·(q − 8).
enum Q4_0Block {
    static let d = 0, qs = 2, size = 18
}

/// Q4_1, 20 bytes for 32 weights: `d` f16 @0, `m` f16 @2, `qs[16]` @4.
/// Same nibble order as Q4_0; w = d·q + m.
enum Q4_1Block {
    static let d = 0, m = 2, qs = 4, size = 20
}

/// Q5_0, 22 bytes for 32 weights: `d` f16 @0, `qh[4]` @2, `qs[16]` @6.
/// `qs` holds the low four bits in Q4_0's nibble order (byte j: weight j low, weight j + 16 high);
/// `qh`, read as a little-endian UInt32, holds the fifth bit of weight i in bit i. w = d·(q − 16).
enum Q5_0Block {
    static let d = 0, qh = 2, qs = 6, size = 22
}

/// Q5_1, 24 bytes for 32 weights: `d` f16 @0, `m` f16 @2, `qh[4]` @4, `qs[16]` @8.
/// Quants as in Q5_0; w = d·q + m.
enum Q5_1Block {
    static let d = 0, m = 2, qh = 4, qs = 8, size = 24
}

/// Q8_0, 34 bytes for 32 weights: `d` f16 @0, `qs[32]` int8 @2; w = d·q.
enum Q8_0Block {
    static let d = 0, qs = 2, size = 34
}

/// Q4_K, 144 bytes for 256 weights: `d` f16 @0, `dmin` f16 @2, `scales[12]` @4, `qs[128]` @16.
///
/// The 256 weights form 8 sub-blocks of 32. Sub-block `j` has a 6-bit scale `sc` and a 6-bit
/// minimum `m`, packed into `scales` as `scaleMin(_:_:)` decodes them. The quants come in four
/// 64-weight chunks of 32 bytes: in chunk `c`, the low nibbles of its 32 bytes are weights
/// `64c ..< 64c+32` (sub-block 2c) and the high nibbles are weights `64c+32 ..< 64c+64`
/// (sub-block 2c+1). w = d·sc·q − dmin·m.
enum Q4_KBlock {
    static let d = 0, dmin = 2, scales = 4, qs = 16, size = 144

    /// The 6-bit scale and minimum of sub-block `j` (0..<8) from the 12 packed bytes at `s`.
    ///
    /// Sub-blocks 0...3 keep their scale in the low 6 bits of byte `j` and their minimum in the low
    /// 6 bits of byte `j + 4`. Sub-blocks 4...7 keep the low 4 bits of the scale in the low nibble
    /// of byte `j + 4` and the low 4 bits of the minimum in its high nibble; the top 2 bits of each
    /// come from the top 2 bits of byte `j − 4` (scale) and byte `j` (minimum).
    @inline(__always)
    static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        let byte = { (i: Int) in s.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 {
            return (byte(j) & 63, byte(j + 4) & 63)
        }
        let scale = (byte(j + 4) & 0x0F) | ((byte(j - 4) >> 6) << 4)
        let min = (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4)
        return (scale, min)
    }
}

/// Q5_K, 176 bytes for 256 weights: `d` f16 @0, `dmin` f16 @2, `scales[12]` @4, `qh[32]` @16,
/// `qs[128]` @48.
///
/// Scales, minimums and the low four bits are laid out exactly as in Q4_K (8 sub-blocks of 32,
/// `Q4_KBlock.scaleMin`, four 32-byte chunks of nibbles). The fifth bit of weight `32j + l`
/// (sub-block j, 0 ≤ l < 32) is bit j of `qh[l]`. w = d·sc·q − dmin·m with q in 0...31.
enum Q5_KBlock {
    static let d = 0, dmin = 2, scales = 4, qh = 16, qs = 48, size = 176
}

/// Q6_K, 210 bytes for 256 weights: `ql[128]` @0, `qh[64]` @128, `scales[16]` int8 @192,
/// `d` f16 @208.
///
/// Each weight has a 6-bit quant q: 4 low bits from `ql`, 2 high bits from `qh`. The block is two
/// halves of 128 weights; half `h` uses `ql[64h ..< 64h+64]`, `qh[32h ..< 32h+32]` and
/// `scales[8h ..< 8h+8]`. Within a half, for l in 0..<32, with `a = ql[l]`, `b = ql[l+32]`,
/// `c = qh[l]` and `s = l / 16`:
///   weight l      = (a & 0xF) | ((c >> 0) & 3) << 4, scale `scales[s]`
///   weight l + 32 = (b & 0xF) | ((c >> 2) & 3) << 4, scale `scales[s + 2]`
///   weight l + 64 = (a >> 4)  | ((c >> 4) & 3) << 4, scale `scales[s + 4]`
///   weight l + 96 = (b >> 4)  | ((c >> 6) & 3) << 4, scale `scales[s + 6]`
/// and w = d·scale·(q − 32).
enum Q6_KBlock {
    static let ql = 0, qh = 128, scales = 192, d = 208, size = 210
}

/// Conversions between float32 and the 16-bit float formats stored in GGUF tensors.
public enum HalfFloat {
    /// The float32 value of IEEE 754 half-precision `bits` (exact, including subnormals, ±∞, NaN).
    @inline(__always)
    public static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24, exact in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// The IEEE half bits nearest to `value` (round to nearest, ties to even; overflow gives ±∞).
    public static func halfBits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa == 0 ? 0 : 0x0200 | UInt16(truncatingIfNeeded: mantissa >> 13))
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 31 { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // Subnormal half (or zero): the full significand shifted right by 14 − halfExponent.
            guard halfExponent >= -10 else { return sign }
            let significand = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)
            return sign | UInt16(truncatingIfNeeded: roundShift(significand, shift))
        }
        let combined = (UInt32(halfExponent) << 23 | mantissa)
        // A carry out of the mantissa rounds into the exponent (and up to ∞), as it should.
        return sign | UInt16(truncatingIfNeeded: roundShift(combined, 13))
    }

    /// The float32 value of bfloat16 `bits`.
    @inline(__always)
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// `value >> shift`, rounded to nearest with ties to even.
    private static func roundShift(_ value: UInt32, _ shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let rest = value & ((1 << shift) - 1)
        let half: UInt32 = 1 << (shift - 1)
        return rest > half || (rest == half && kept & 1 == 1) ? kept + 1 : kept
    }
}
