// Reference dequantisers against hand-built blocks.
//
// Each block is assembled from chosen scales and quants, and every output weight is checked
// against the type's formula evaluated here. Scales are small multiples of powers of two, so
// every expected value is exact and the comparisons can be exact too.

import Testing
@testable import GGUF

/// Dequantises `count` weights of `type` from `bytes`, failing the test on error.
private func decode(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
    try Dequantize.row(type, from: bytes, count: count)
}

/// `count` random values in `range`.
private func randoms(_ count: Int, _ range: ClosedRange<Int>, _ random: inout SeededGenerator) -> [Int] {
    (0..<count).map { _ in Int.random(in: range, using: &random) }
}

@Test func f32F16BF16() throws {
    let floats: [Float] = [0, 1, -2.5, 1e-3, 65504, -.infinity]
    let f32Bytes = floats.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    #expect(try decode(.f32, f32Bytes, count: floats.count) == floats)

    let halves: [Float] = [0, 1, -2.5, 0.000061035156, 65504, -.infinity, 5.9604645e-08]
    #expect(try decode(.f16, halves.flatMap(halfBytes), count: halves.count) == halves)

    let bf16Bytes: [UInt8] = [0x80, 0x3F, 0x40, 0xC0, 0x49, 0x40]
    #expect(try decode(.bf16, bf16Bytes, count: 3) == [1, -3, Float(bitPattern: 0x4049_0000)])
}

@Test func q8_0Blocks() throws {
    let scales: [Float] = [0.5, -0.0625]
    let quants: [[Int]] = [(0..<32).map { (i: Int) -> Int in i * 8 - 128 }, (0..<32).map { (i: Int) -> Int in 127 - i * 3 }]
    var bytes: [UInt8] = []
    for block in 0..<2 {
        bytes += halfBytes(scales[block]) + quants[block].map { UInt8(bitPattern: Int8($0)) }
    }
    #expect(bytes.count == 2 * GGMLType.q8_0.typeSize)
    let expected = (0..<64).map { (i: Int) -> Float in scales[i / 32] * Float(quants[i / 32][i % 32]) }
    #expect(try decode(.q8_0, bytes, count: 64) == expected)
}

@Test func q4_0Blocks() throws {
    var random = SeededGenerator(seed: 40)
    let scales: [Float] = [1.5, -0.125]
    let quants = [(0..<32).map { $0 < 16 ? $0 : 31 - $0 }, randoms(32, 0...15, &random)]
    var bytes: [UInt8] = []
    for block in 0..<2 {
        bytes += halfBytes(scales[block])
        // Byte j: weight j in the low nibble, weight j + 16 in the high nibble.
        bytes += (0..<16).map { (j: Int) -> UInt8 in UInt8(quants[block][j] | quants[block][j + 16] << 4) }
    }
    #expect(bytes.count == 2 * GGMLType.q4_0.typeSize)
    let expected = (0..<64).map { (i: Int) -> Float in scales[i / 32] * Float(quants[i / 32][i % 32] - 8) }
    #expect(try decode(.q4_0, bytes, count: 64) == expected)
}

@Test func q4_1Blocks() throws {
    var random = SeededGenerator(seed: 41)
    let scales: [Float] = [0.25, 3]
    let mins: [Float] = [-2, 0.5]
    let quants = [Array(0..<32).map { $0 % 16 }, randoms(32, 0...15, &random)]
    var bytes: [UInt8] = []
    for block in 0..<2 {
        bytes += halfBytes(scales[block]) + halfBytes(mins[block])
        bytes += (0..<16).map { (j: Int) -> UInt8 in UInt8(quants[block][j] | quants[block][j + 16] << 4) }
    }
    #expect(bytes.count == 2 * GGMLType.q4_1.typeSize)
    let expected = (0..<64).map { (i: Int) -> Float in scales[i / 32] * Float(quants[i / 32][i % 32]) + mins[i / 32] }
    #expect(try decode(.q4_1, bytes, count: 64) == expected)
}

@Test func q4_KBlocks() throws {
    var random = SeededGenerator(seed: 412)
    var bytes: [UInt8] = []
    var expected: [Float] = []
    for (d, dmin) in [(Float(0.0625), Float(0.03125)), (Float(-1.5), Float(0.75))] {
        let scales = randoms(8, 0...63, &random).map(UInt8.init)
        let mins = randoms(8, 0...63, &random).map(UInt8.init)
        let quants = randoms(256, 0...15, &random)
        // Weight i sits in chunk i / 64, byte 32·chunk + i % 32; low nibble for the first 32 of the
        // chunk, high nibble for the next 32; its sub-block is i / 32.
        var qs = [UInt8](repeating: 0, count: 128)
        for i in 0..<256 {
            let byte = 32 * (i / 64) + i % 32
            qs[byte] |= UInt8(quants[i]) << (i % 64 < 32 ? 0 : 4)
        }
        bytes += halfBytes(d) + halfBytes(dmin) + packQ4KScales(scales: scales, mins: mins) + qs
        expected += (0..<256).map { (i: Int) -> Float in
            d * Float(scales[i / 32]) * Float(quants[i]) - dmin * Float(mins[i / 32])
        }
    }
    #expect(bytes.count == 2 * GGMLType.q4_K.typeSize)
    #expect(try decode(.q4_K, bytes, count: 512) == expected)
}

@Test func q6_KBlocks() throws {
    var random = SeededGenerator(seed: 614)
    var bytes: [UInt8] = []
    var expected: [Float] = []
    for d in [Float(0.125), Float(-0.0078125)] {
        let scales = randoms(16, -128...127, &random)
        let quants = randoms(256, 0...63, &random)
        // Weight i: half h = i / 128, group g = (i % 128) / 32, lane l = i % 32. Its low 4 bits are
        // in ql[64h + l + 32·(g & 1)] (low nibble for g < 2, high for g ≥ 2); its top 2 bits are
        // bits 2g, 2g+1 of qh[32h + l]; its scale is scales[i / 16].
        var ql = [UInt8](repeating: 0, count: 128)
        var qh = [UInt8](repeating: 0, count: 64)
        for i in 0..<256 {
            let h = i / 128, g = (i % 128) / 32, l = i % 32
            ql[64 * h + l + 32 * (g & 1)] |= UInt8(quants[i] & 0x0F) << (g < 2 ? 0 : 4)
            qh[32 * h + l] |= UInt8(quants[i] >> 4) << (2 * g)
        }
        bytes += ql + qh + scales.map { UInt8(bitPattern: Int8($0)) } + halfBytes(d)
        expected += (0..<256).map { (i: Int) -> Float in d * Float(scales[i / 16]) * Float(quants[i] - 32) }
    }
    #expect(bytes.count == 2 * GGMLType.q6_K.typeSize)
    #expect(try decode(.q6_K, bytes, count: 512) == expected)
}

@Test func q6_KSingleWeightLandsInPlace() throws {
    // With all quants at 32 (zero weight) but one, exactly that weight is non-zero.
    for target in stride(from: 0, to: 256, by: 7) {
        var quants = [Int](repeating: 32, count: 256)
        quants[target] = 63
        var ql = [UInt8](repeating: 0, count: 128)
        var qh = [UInt8](repeating: 0, count: 64)
        for i in 0..<256 {
            let h = i / 128, g = (i % 128) / 32, l = i % 32
            ql[64 * h + l + 32 * (g & 1)] |= UInt8(quants[i] & 0x0F) << (g < 2 ? 0 : 4)
            qh[32 * h + l] |= UInt8(quants[i] >> 4) << (2 * g)
        }
        let bytes = ql + qh + [UInt8](repeating: 1, count: 16) + halfBytes(1)
        let weights = try decode(.q6_K, bytes, count: 256)
        #expect(weights.indices.filter { weights[$0] != 0 } == [target])
        #expect(weights[target] == 31)
    }
}

@Test func runWritesExactlyCountFloats() throws {
    let bytes = halfBytes(1) + [UInt8](repeating: 2, count: 32)
    var out = [Float](repeating: -7, count: 40)
    try bytes.withUnsafeBytes { raw in
        try out.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            try Dequantize.run(.q8_0, from: raw, count: 32, into: base)
        }
    }
    #expect(out[..<32].allSatisfy { $0 == 2 })
    #expect(out[32...].allSatisfy { $0 == -7 })
}

@Test func badCountsAndShortBuffers() {
    let block = [UInt8](repeating: 0, count: 18)
    expectError(.badElementCount(type: .q4_0, count: 31)) { () throws(GGUFError) in
        _ = try Dequantize.row(.q4_0, from: block, count: 31)
    }
    expectError(.badElementCount(type: .q4_K, count: 32)) { () throws(GGUFError) in
        _ = try Dequantize.row(.q4_K, from: block, count: 32)
    }
    expectError(.badElementCount(type: .f32, count: -1)) { () throws(GGUFError) in
        _ = try Dequantize.row(.f32, from: block, count: -1)
    }
    expectError(.bufferTooSmall(type: .q4_0, needed: 36, available: 18)) { () throws(GGUFError) in
        _ = try Dequantize.row(.q4_0, from: block, count: 64)
    }
    expectError(.bufferTooSmall(type: .q6_K, needed: 210, available: 17)) { () throws(GGUFError) in
        _ = try Dequantize.row(.q6_K, from: Array(block[1...]), count: 256)
    }
    expectError(.bufferTooSmall(type: .f16, needed: 20, available: 18)) { () throws(GGUFError) in
        _ = try Dequantize.row(.f16, from: block, count: 10)
    }
    #expect((try? Dequantize.row(.q8_0, from: [], count: 0)) == [])
}

@Test func rowsOfATensor() throws {
    var writer = GGUFWriter()
    var data: [UInt8] = []
    for block in 0..<6 {  // 3 rows of 2 blocks
        data += halfBytes(Float(block + 1)) + (0..<32).map { UInt8($0) }
    }
    writer.addTensor(name: "m", dims: [64, 3], type: .q8_0, data: data)
    let file = try GGUFFile(bytes: writer.serialize())
    let info = try #require(file.tensor(named: "m"))
    let all = try Dequantize.row(info, in: file)
    let expected = (0..<192).map { (i: Int) -> Float in Float(i / 32 + 1) * Float(i % 32) }
    #expect(all == expected)
    #expect(try Dequantize.row(info, in: file, rows: 1..<3) == Array(all[64...]))
    #expect(try Dequantize.row(info, in: file, rows: 2..<2) == [])
    expectError(.rowsOutOfRange(tensor: "m", rows: 2..<4, available: 3)) { () throws(GGUFError) in
        _ = try Dequantize.row(info, in: file, rows: 2..<4)
    }
}
