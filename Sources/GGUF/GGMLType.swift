// Every ggml tensor type a current GGUF file can name, with its block geometry.
//
// The parser must accept any tensor type that appears in published files, even ones this package
// cannot decode: a tool such as `toolrouter inspect` still has to show such a file. Whether a type
// can be turned into float32 is a separate question, answered by `hasReferenceDequantizer`.
// Ids, block sizes and byte sizes follow ggml's `enum ggml_type` (ggml.h) and ggml-common.h.
// Ids 4, 5, 31–33 and 36–38 were retired from GGUF files upstream and stay unknown here.

/// A ggml tensor storage type (ggml's `enum ggml_type` codes).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE float, one weight per "block".
    case f32 = 0
    /// 16-bit IEEE half float.
    case f16 = 1
    /// 32 weights: f16 scale and 4-bit quants; w = d·(q − 8).
    case q4_0 = 2
    /// 32 weights: f16 scale, f16 minimum and 4-bit quants; w = d·q + m.
    case q4_1 = 3
    /// 32 weights: f16 scale, 4-bit quants plus a fifth bit each; w = d·(q − 16).
    case q5_0 = 6
    /// 32 weights: f16 scale and minimum, 5-bit quants; w = d·q + m.
    case q5_1 = 7
    /// 32 weights: f16 scale and 8-bit signed quants; w = d·q.
    case q8_0 = 8
    /// 32 weights: f16 scale, f16 sum d·Σq, 8-bit quants (an activation format; not in model files).
    case q8_1 = 9
    /// 256 weights: 2-bit quants, 4-bit sub-block scales and minimums.
    case q2_K = 10
    /// 256 weights: 3-bit quants (2 low bits plus a high-bit mask), 6-bit sub-block scales.
    case q3_K = 11
    /// 256 weights in 8 sub-blocks with 6-bit scales and minimums; w = d·sc·q − dmin·m.
    case q4_K = 12
    /// 256 weights as Q4_K plus a fifth quant bit; w = d·sc·q − dmin·m with q in 0...31.
    case q5_K = 13
    /// 256 weights in 16 sub-blocks with 8-bit scales, 6-bit quants; w = d·sc·(q − 32).
    case q6_K = 14
    /// 256 weights: f32 scale, 8-bit quants and 16-wide sums (an activation format).
    case q8_K = 15
    /// i-quant, 2.06 bits a weight (lattice codebook).
    case iq2_xxs = 16
    /// i-quant, 2.31 bits a weight.
    case iq2_xs = 17
    /// i-quant, 3.06 bits a weight.
    case iq3_xxs = 18
    /// i-quant, 1.56 bits a weight.
    case iq1_s = 19
    /// 32 weights: f16 scale and 4-bit indices into a fixed non-linear table.
    case iq4_nl = 20
    /// i-quant, 3.44 bits a weight.
    case iq3_s = 21
    /// i-quant, 2.5 bits a weight.
    case iq2_s = 22
    /// 256 weights: IQ4_NL's table with 6-bit sub-block scales.
    case iq4_xs = 23
    /// 8-bit signed integer.
    case i8 = 24
    /// 16-bit signed integer.
    case i16 = 25
    /// 32-bit signed integer.
    case i32 = 26
    /// 64-bit signed integer.
    case i64 = 27
    /// 64-bit IEEE float.
    case f64 = 28
    /// i-quant, 1.75 bits a weight.
    case iq1_m = 29
    /// bfloat16: the upper 16 bits of a float32.
    case bf16 = 30
    /// Ternary, 1.69 bits a weight (five trits a byte).
    case tq1_0 = 34
    /// Ternary, 2.06 bits a weight (2 bits a trit).
    case tq2_0 = 35
    /// OCP microscaling FP4: one E8M0 exponent byte and 32 packed E2M1 values.
    case mxfp4 = 39
    /// NVIDIA FP4: 64 weights, four UE4M3 sub-block scales, packed E2M1 values.
    case nvfp4 = 40
    /// 128 weights: f16 scale and one sign bit a weight.
    case q1_0 = 41

    /// Weights per block.
    public var blockSize: Int { Self.geometry(self).weights }

    /// Bytes per block.
    public var typeSize: Int { Self.geometry(self).bytes }

    /// The name ggml and llama.cpp print ("F32", "Q4_1", "Q6_K", "IQ2_XXS", ...).
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .iq2_xxs: "IQ2_XXS"
        case .iq2_xs: "IQ2_XS"
        case .iq3_xxs: "IQ3_XXS"
        case .iq1_s: "IQ1_S"
        case .iq4_nl: "IQ4_NL"
        case .iq3_s: "IQ3_S"
        case .iq2_s: "IQ2_S"
        case .iq4_xs: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1_m: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4: "MXFP4"
        case .nvfp4: "NVFP4"
        case .q1_0: "Q1_0"
        }
    }

    /// Same as `name`.
    public var description: String { name }

    /// True when `Dequantize.run` can turn this type into float32. Tensors of other types parse
    /// and can be listed, but no engine in this package can compute with them.
    public var hasReferenceDequantizer: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: true
        default: false
        }
    }

    /// Bytes taken by `elements` weights, or nil if `elements` is negative, not a multiple of
    /// `blockSize`, or the byte count would overflow `Int`.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    /// Weights and bytes per block. The K-quant and i-quant super-blocks hold 256 weights (ggml's
    /// QK_K); the sizes are those of ggml-common.h's `block_*` structs, which `blockLayout` spells out.
    private static func geometry(_ type: GGMLType) -> (weights: Int, bytes: Int) {
        switch type {
        case .f32, .i32: (1, 4)
        case .f16, .bf16, .i16: (1, 2)
        case .i8: (1, 1)
        case .i64, .f64: (1, 8)
        case .q4_0: (32, Q4_0Block.size)
        case .q4_1: (32, Q4_1Block.size)
        case .q5_0: (32, Q5_0Block.size)
        case .q5_1: (32, Q5_1Block.size)
        case .q8_0: (32, Q8_0Block.size)
        case .q8_1: (32, 36)
        case .iq4_nl: (32, 18)
        case .mxfp4: (32, 17)
        case .nvfp4: (64, 36)
        case .q1_0: (128, 18)
        case .q2_K: (256, 84)
        case .q3_K: (256, 110)
        case .q4_K: (256, Q4_KBlock.size)
        case .q5_K: (256, Q5_KBlock.size)
        case .q6_K: (256, Q6_KBlock.size)
        case .q8_K: (256, 292)
        case .iq2_xxs: (256, 66)
        case .iq2_xs: (256, 74)
        case .iq3_xxs: (256, 98)
        case .iq1_s: (256, 50)
        case .iq3_s: (256, 110)
        case .iq2_s: (256, 82)
        case .iq4_xs: (256, 136)
        case .iq1_m: (256, 56)
        case .tq1_0: (256, 54)
        case .tq2_0: (256, 66)
        }
    }
}
