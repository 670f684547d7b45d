// The ggml tensor types this package reads, and the byte layout of one block of each.
//
// A tensor's innermost dimension is cut into blocks of `blockSize` weights; each block is stored in
// `typeSize` bytes. All multi-byte fields are little-endian and blocks are packed with no padding,
// so fields may sit at odd addresses (read them with `loadUnaligned`). The layouts below follow
// ggml's ggml-common.h; `GGMLType.blockLayout` lists them as data so tests can check the sizes.

/// A ggml tensor storage type supported by this package (ggml's `enum ggml_type` codes).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE float, one weight per "block".
    case f32 = 0
    /// 16-bit IEEE half float.
    case f16 = 1
    /// 32 weights: f16 scale and 4-bit quants; w = d·(q − 8).
    case q4_0 = 2
    /// 32 weights: f16 scale, f16 minimum and 4-bit quants; w = d·q + m.
    case q4_1 = 3
    /// 32 weights: f16 scale and 8-bit signed quants; w = d·q.
    case q8_0 = 8
    /// 256 weights in 8 sub-blocks with 6-bit scales and minimums; w = d·sc·q − dmin·m.
    case q4_K = 12
    /// 256 weights in 16 sub-blocks with 8-bit scales, 6-bit quants; w = d·sc·(q − 32).
    case q6_K = 14
    /// bfloat16: the upper 16 bits of a float32.
    case bf16 = 30

    /// Weights per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q8_0: 32
        case .q4_K, .q6_K: 256
        }
    }

    /// Bytes per block.
    public var typeSize: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: Q4_0Block.size
        case .q4_1: Q4_1Block.size
        case .q8_0: Q8_0Block.size
        case .q4_K: Q4_KBlock.size
        case .q6_K: Q6_KBlock.size
        }
    }

    /// The name ggml and llama.cpp print ("F32", "Q4_1", "Q6_K", ...).
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q8_0: "Q8_0"
        case .q4_K: "Q4_K"
        case .q6_K: "Q6_K"
        case .bf16: "BF16"
        }
    }

    /// Same as `name`.
    public var description: String { name }

    /// Bytes taken by `elements` weights, or nil if `elements` is negative, not a multiple of
    /// `blockSize`, or the byte count would overflow `Int`.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    /// The fields of one block, in storage order, with their byte offsets and sizes.
    public var blockLayout: [BlockField] {
        switch self {
        case .f32: [BlockField("value (f32)", 0, 4)]
        case .f16: [BlockField("value (f16)", 0, 2)]
        case .bf16: [BlockField("value (bf16)", 0, 2)]
        case .q4_0: [BlockField("d (f16)", Q4_0Block.d, 2), BlockField("qs[16]", Q4_0Block.qs, 16)]
        case .q4_1:
            [BlockField("d (f16)", Q4_1Block.d, 2), BlockField("m (f16)", Q4_1Block.m, 2),
             BlockField("qs[16]", Q4_1Block.qs, 16)]
        case .q8_0: [BlockField("d (f16)", Q8_0Block.d, 2), BlockField("qs[32] (int8)", Q8_0Block.qs, 32)]
        case .q4_K:
            [BlockField("d (f16)", Q4_KBlock.d, 2), BlockField("dmin (f16)", Q4_KBlock.dmin, 2),
             BlockField("scales[12]", Q4_KBlock.scales, 12), BlockField("qs[128]", Q4_KBlock.qs, 128)]
        case .q6_K:
            [BlockField("ql[128]", Q6_KBlock.ql, 128), BlockField("qh[64]", Q6_KBlock.qh, 64),
             BlockField("scales[16] (int8)", Q6_KBlock.scales, 16), BlockField("d (f16)", Q6_KBlock.d, 2)]
        }
    }
}

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
