// Type table, block layouts and the 16-bit float conversions.

import Testing
@testable import GGUF

@Test func typeTable() {
    // ggml's enum ggml_type codes, block sizes and block bytes (ggml.h, ggml-common.h).
    let expected: [(GGMLType, raw: UInt32, block: Int, bytes: Int, name: String)] = [
        (.f32, 0, 1, 4, "F32"), (.f16, 1, 1, 2, "F16"), (.q4_0, 2, 32, 18, "Q4_0"), (.q4_1, 3, 32, 20, "Q4_1"),
        (.q5_0, 6, 32, 22, "Q5_0"), (.q5_1, 7, 32, 24, "Q5_1"), (.q8_0, 8, 32, 34, "Q8_0"), (.q8_1, 9, 32, 36, "Q8_1"),
        (.q2_K, 10, 256, 84, "Q2_K"), (.q3_K, 11, 256, 110, "Q3_K"), (.q4_K, 12, 256, 144, "Q4_K"),
        (.q5_K, 13, 256, 176, "Q5_K"), (.q6_K, 14, 256, 210, "Q6_K"), (.q8_K, 15, 256, 292, "Q8_K"),
        (.iq2_xxs, 16, 256, 66, "IQ2_XXS"), (.iq2_xs, 17, 256, 74, "IQ2_XS"), (.iq3_xxs, 18, 256, 98, "IQ3_XXS"),
        (.iq1_s, 19, 256, 50, "IQ1_S"), (.iq4_nl, 20, 32, 18, "IQ4_NL"), (.iq3_s, 21, 256, 110, "IQ3_S"),
        (.iq2_s, 22, 256, 82, "IQ2_S"), (.iq4_xs, 23, 256, 136, "IQ4_XS"), (.i8, 24, 1, 1, "I8"), (.i16, 25, 1, 2, "I16"),
        (.i32, 26, 1, 4, "I32"), (.i64, 27, 1, 8, "I64"), (.f64, 28, 1, 8, "F64"), (.iq1_m, 29, 256, 56, "IQ1_M"),
        (.bf16, 30, 1, 2, "BF16"), (.tq1_0, 34, 256, 54, "TQ1_0"), (.tq2_0, 35, 256, 66, "TQ2_0"),
        (.mxfp4, 39, 32, 17, "MXFP4"), (.nvfp4, 40, 64, 36, "NVFP4"), (.q1_0, 41, 128, 18, "Q1_0"),
    ]
    #expect(GGMLType.allCases.count == expected.count)
    for (type, raw, block, bytes, name) in expected {
        #expect(type.rawValue == raw)
        #expect(GGMLType(rawValue: raw) == type)
        #expect(type.blockSize == block, "\(name)")
        #expect(type.typeSize == bytes, "\(name)")
        #expect(type.name == name && type.description == name)
    }
    // Ids retired from GGUF files upstream, and ones past the end, stay unknown.
    for raw: UInt32 in [4, 5, 31, 32, 33, 36, 37, 38, 42, 99] { #expect(GGMLType(rawValue: raw) == nil, "\(raw)") }
}

@Test func decodableTypes() {
    let decodable = GGMLType.allCases.filter(\.hasReferenceDequantizer)
    #expect(Set(decodable) == [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    #expect(throws: GGUFError.noDequantizer(type: .iq2_xxs)) {
        try Dequantize.row(.iq2_xxs, from: [UInt8](repeating: 0, count: 66), count: 256)
    }
}

@Test(arguments: GGMLType.allCases)
func layoutFieldsFillTheBlock(_ type: GGMLType) {
    let fields = type.blockLayout
    #expect(fields.reduce(0) { $0 + $1.size } == type.typeSize)
    var next = 0
    for field in fields {
        #expect(field.offset == next, "\(type.name).\(field.name)")
        next = field.offset + field.size
    }
    #expect(next == type.typeSize)
}

@Test func kQuantLayoutSums() {
    #expect(GGMLType.q4_K.blockLayout.map(\.size) == [2, 2, 12, 128])
    #expect(GGMLType.q6_K.blockLayout.map(\.size) == [128, 64, 16, 2])
    #expect(GGMLType.q4_K.blockLayout.map(\.offset) == [0, 2, 4, 16])
    #expect(GGMLType.q6_K.blockLayout.map(\.offset) == [0, 128, 192, 208])
    #expect(GGMLType.q5_K.blockLayout.map(\.offset) == [0, 2, 4, 16, 48])
    #expect(GGMLType.q5_0.blockLayout.map(\.offset) == [0, 2, 6])
    #expect(GGMLType.q5_1.blockLayout.map(\.offset) == [0, 2, 4, 8])
}

@Test func byteCounts() {
    #expect(GGMLType.q4_K.byteCount(elements: 512) == 288)
    #expect(GGMLType.q4_1.byteCount(elements: 576 * 576) == 576 * 18 * 20)
    #expect(GGMLType.q8_0.byteCount(elements: 576 * 49152) == 576 * 49152 / 32 * 34)
    #expect(GGMLType.f32.byteCount(elements: 3) == 12)
    #expect(GGMLType.q6_K.byteCount(elements: 0) == 0)
    #expect(GGMLType.q4_0.byteCount(elements: 100) == nil)
    #expect(GGMLType.q4_0.byteCount(elements: -32) == nil)
    #expect(GGMLType.f32.byteCount(elements: .max / 2) == nil)
}

@Test func q4KScaleMinUnpacking() {
    // Scales 10, 17, ..., 59 and mins 63, 58, ..., 28: both use the top two of their six bits.
    let scales: [UInt8] = (0..<8).map { UInt8(10 + 7 * $0) }
    let mins: [UInt8] = (0..<8).map { UInt8(63 - 5 * $0) }
    let packed = packQ4KScales(scales: scales, mins: mins)
    packed.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        for j in 0..<8 {
            let (scale, min) = Q4_KBlock.scaleMin(base, j)
            #expect(scale == scales[j] && min == mins[j], "sub-block \(j)")
        }
    }
}

#if !(os(macOS) && arch(x86_64))
@Test func halfToFloatMatchesFloat16ForAllBitPatterns() {
    for bits in 0...UInt16.max {
        let ours = HalfFloat.float(fromHalf: bits)
        let reference = Float(Float16(bitPattern: bits))
        if reference.isNaN {
            #expect(ours.isNaN, "0x\(String(bits, radix: 16))")
        } else {
            #expect(ours.bitPattern == reference.bitPattern, "0x\(String(bits, radix: 16))")
        }
    }
}

@Test func floatToHalfRoundsLikeFloat16() {
    var random = SeededGenerator(seed: 7)
    var samples: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, .infinity, -.infinity]
    for _ in 0..<20000 {
        // Random magnitudes from 2^-30 to 2^20, so subnormals, normals and overflow all appear.
        samples.append(Float(bitPattern: UInt32.random(in: 0x3080_0000...0x4980_0000, using: &random))
            * (Bool.random(using: &random) ? 1 : -1))
    }
    for value in samples {
        #expect(HalfFloat.halfBits(from: value) == Float16(value).bitPattern, "\(value)")
    }
    #expect(HalfFloat.halfBits(from: .nan) & 0x7C00 == 0x7C00 && HalfFloat.halfBits(from: .nan) & 0x3FF != 0)
}
#endif

@Test func halfRoundTripsEveryFiniteValue() {
    for bits in 0...UInt16.max where bits & 0x7C00 != 0x7C00 {
        #expect(HalfFloat.halfBits(from: HalfFloat.float(fromHalf: bits)) == bits)
    }
}

@Test func bf16IsTheUpperHalfOfAFloat() {
    #expect(HalfFloat.float(fromBF16: 0x3F80) == 1)
    #expect(HalfFloat.float(fromBF16: 0xC040) == -3)
    #expect(HalfFloat.float(fromBF16: 0x7F80) == .infinity)
    #expect(HalfFloat.float(fromBF16: 0x4049) == Float(bitPattern: 0x4049_0000))
}

/// Packs 8 six-bit scales and mins into Q4_K's 12 bytes, the inverse of ggml's get_scale_min_k4:
/// bytes 0...3 hold scales 0...3 plus the top 2 bits of scales 4...7; bytes 4...7 hold mins 0...3
/// plus the top 2 bits of mins 4...7; bytes 8...11 hold the low nibbles of scale and min 4...7.
func packQ4KScales(scales: [UInt8], mins: [UInt8]) -> [UInt8] {
    var packed = [UInt8](repeating: 0, count: 12)
    for k in 0..<4 {
        packed[k] = scales[k] | (scales[k + 4] >> 4) << 6
        packed[k + 4] = mins[k] | (mins[k + 4] >> 4) << 6
        packed[k + 8] = (scales[k + 4] & 0x0F) | (mins[k + 4] & 0x0F) << 4
    }
    return packed
}
