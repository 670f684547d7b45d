// The fields of one block of each ggml type, as data (ggml-common.h's `block_*` structs).
//
// Only the types with a dequantiser are read field by field (see QuantBlocks.swift); the rest are
// listed so that tests can check every type's byte size against its fields, and so that people
// reading `inspect` output or an error can see what a block holds.

extension GGMLType {
    /// The fields of one block, in storage order, with their byte offsets and sizes.
    public var blockLayout: [BlockField] {
        switch self {
        case .f32: [BlockField("value (f32)", 0, 4)]
        case .f16: [BlockField("value (f16)", 0, 2)]
        case .bf16: [BlockField("value (bf16)", 0, 2)]
        case .i8: [BlockField("value (int8)", 0, 1)]
        case .i16: [BlockField("value (int16)", 0, 2)]
        case .i32: [BlockField("value (int32)", 0, 4)]
        case .i64: [BlockField("value (int64)", 0, 8)]
        case .f64: [BlockField("value (f64)", 0, 8)]
        case .q4_0: [BlockField("d (f16)", Q4_0Block.d, 2), BlockField("qs[16]", Q4_0Block.qs, 16)]
        case .q4_1:
            [BlockField("d (f16)", Q4_1Block.d, 2), BlockField("m (f16)", Q4_1Block.m, 2),
             BlockField("qs[16]", Q4_1Block.qs, 16)]
        case .q5_0:
            [BlockField("d (f16)", Q5_0Block.d, 2), BlockField("qh[4]", Q5_0Block.qh, 4),
             BlockField("qs[16]", Q5_0Block.qs, 16)]
        case .q5_1:
            [BlockField("d (f16)", Q5_1Block.d, 2), BlockField("m (f16)", Q5_1Block.m, 2),
             BlockField("qh[4]", Q5_1Block.qh, 4), BlockField("qs[16]", Q5_1Block.qs, 16)]
        case .q8_0: [BlockField("d (f16)", Q8_0Block.d, 2), BlockField("qs[32] (int8)", Q8_0Block.qs, 32)]
        case .q8_1:
            [BlockField("d (f16)", 0, 2), BlockField("s (f16)", 2, 2), BlockField("qs[32] (int8)", 4, 32)]
        case .q2_K:
            [BlockField("scales[16]", 0, 16), BlockField("qs[64]", 16, 64),
             BlockField("d (f16)", 80, 2), BlockField("dmin (f16)", 82, 2)]
        case .q3_K:
            [BlockField("hmask[32]", 0, 32), BlockField("qs[64]", 32, 64),
             BlockField("scales[12]", 96, 12), BlockField("d (f16)", 108, 2)]
        case .q4_K:
            [BlockField("d (f16)", Q4_KBlock.d, 2), BlockField("dmin (f16)", Q4_KBlock.dmin, 2),
             BlockField("scales[12]", Q4_KBlock.scales, 12), BlockField("qs[128]", Q4_KBlock.qs, 128)]
        case .q5_K:
            [BlockField("d (f16)", Q5_KBlock.d, 2), BlockField("dmin (f16)", Q5_KBlock.dmin, 2),
             BlockField("scales[12]", Q5_KBlock.scales, 12), BlockField("qh[32]", Q5_KBlock.qh, 32),
             BlockField("qs[128]", Q5_KBlock.qs, 128)]
        case .q6_K:
            [BlockField("ql[128]", Q6_KBlock.ql, 128), BlockField("qh[64]", Q6_KBlock.qh, 64),
             BlockField("scales[16] (int8)", Q6_KBlock.scales, 16), BlockField("d (f16)", Q6_KBlock.d, 2)]
        case .q8_K:
            [BlockField("d (f32)", 0, 4), BlockField("qs[256] (int8)", 4, 256), BlockField("bsums[16] (int16)", 260, 32)]
        case .iq2_xxs: [BlockField("d (f16)", 0, 2), BlockField("qs[32] (uint16)", 2, 64)]
        case .iq2_xs:
            [BlockField("d (f16)", 0, 2), BlockField("qs[32] (uint16)", 2, 64), BlockField("scales[8]", 66, 8)]
        case .iq2_s:
            [BlockField("d (f16)", 0, 2), BlockField("qs[64]", 2, 64), BlockField("qh[8]", 66, 8),
             BlockField("scales[8]", 74, 8)]
        case .iq3_xxs: [BlockField("d (f16)", 0, 2), BlockField("qs[96]", 2, 96)]
        case .iq3_s:
            [BlockField("d (f16)", 0, 2), BlockField("qs[64]", 2, 64), BlockField("qh[8]", 66, 8),
             BlockField("signs[32]", 74, 32), BlockField("scales[4]", 106, 4)]
        case .iq1_s:
            [BlockField("d (f16)", 0, 2), BlockField("qs[32]", 2, 32), BlockField("qh[8] (uint16)", 34, 16)]
        case .iq1_m: [BlockField("qs[32]", 0, 32), BlockField("qh[16]", 32, 16), BlockField("scales[8]", 48, 8)]
        case .iq4_nl: [BlockField("d (f16)", 0, 2), BlockField("qs[16]", 2, 16)]
        case .iq4_xs:
            [BlockField("d (f16)", 0, 2), BlockField("scales_h (uint16)", 2, 2), BlockField("scales_l[4]", 4, 4),
             BlockField("qs[128]", 8, 128)]
        case .tq1_0: [BlockField("qs[48]", 0, 48), BlockField("qh[4]", 48, 4), BlockField("d (f16)", 52, 2)]
        case .tq2_0: [BlockField("qs[64]", 0, 64), BlockField("d (f16)", 64, 2)]
        case .mxfp4: [BlockField("e (E8M0)", 0, 1), BlockField("qs[16]", 1, 16)]
        case .nvfp4: [BlockField("d[4] (UE4M3)", 0, 4), BlockField("qs[32]", 4, 32)]
        case .q1_0: [BlockField("d (f16)", 0, 2), BlockField("qs[16]", 2, 16)]
        }
    }
}
