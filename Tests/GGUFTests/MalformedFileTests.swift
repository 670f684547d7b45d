// Malformed files: each is rejected with the specific error, never a crash or a huge allocation.

import Foundation
import Testing
@testable import GGUF

/// A file with one metadata entry of raw type `type` whose value bytes are `value`.
private func fileWithEntry(_ key: String, type: UInt32, value: [UInt8]) -> [UInt8] {
    var raw = RawGGUF()
    raw.header(tensors: 0, entries: 1)
    raw.entry(key, type: type)
    raw.bytes += value
    return raw.bytes
}

/// Little-endian bytes of `value`.
private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A file with one tensor info and `dataBytes` zero bytes of data after the aligned header.
private func fileWithTensor(
    _ name: String = "t", dims: [UInt64], type: UInt32, offset: UInt64 = 0, dataBytes: Int
) -> [UInt8] {
    var raw = RawGGUF()
    raw.header(tensors: 1, entries: 0)
    raw.tensorInfo(name, dims: dims, type: type, offset: offset)
    raw.pad(to: 32)
    raw.bytes += Array(repeating: 0, count: dataBytes)
    return raw.bytes
}

@Test func badMagic() {
    var bytes = GGUFWriter().serialize()
    bytes[0] = UInt8(ascii: "X")
    expectParseError(bytes, .badMagic(found: 0x4655_4758))
    expectParseError(Array("GGML\u{3}\0\0\0".utf8), .badMagic(found: 0x4C4D_4747))
}

@Test func unsupportedVersions() {
    expectParseError(GGUFWriter().serialize(version: 1), .unsupportedVersion(1))
    expectParseError(GGUFWriter().serialize(version: 99), .unsupportedVersion(99))
    expectParseError(GGUFWriter().serialize(version: 0), .unsupportedVersion(0))
}

@Test func everyCutThrowsTheRightError() throws {
    var raw = RawGGUF()
    raw.header(tensors: 3, entries: 5)
    raw.entry("general.architecture", type: 8)
    raw.string("llama")
    raw.entry("tokens", type: 9)
    raw.int(UInt32(8))
    raw.int(UInt64(3))
    for token in ["<s>", "Ġhello", "ü"] { raw.string(token) }
    raw.entry("scores", type: 9)
    raw.int(UInt32(6))
    raw.int(UInt64(3))
    for score: Float in [0, -1.5, 2] { raw.int(score.bitPattern) }
    raw.entry("nested", type: 9)
    raw.int(UInt32(9))
    raw.int(UInt64(2))
    raw.int(UInt32(10))
    raw.int(UInt64(1))
    raw.int(UInt64(42))
    raw.int(UInt32(7))
    raw.int(UInt64(2))
    raw.bytes += [1, 0]
    raw.entry("flag", type: 7)
    raw.bytes.append(1)
    raw.tensorInfo("a.weight", dims: [32, 2], type: GGMLType.q8_0.rawValue, offset: 0)
    raw.tensorInfo("b.weight", dims: [4], type: GGMLType.f32.rawValue, offset: 96)
    raw.tensorInfo("c.weight", dims: [256], type: GGMLType.q4_K.rawValue, offset: 128)
    let infoEnd = raw.bytes.count
    raw.pad(to: 32)
    let dataOffset = raw.bytes.count
    raw.bytes += (0..<(128 + 144)).map { UInt8(truncatingIfNeeded: $0) }
    let dataEnd = raw.bytes.count
    raw.pad(to: 32)
    let full = raw.bytes

    let file = try GGUFFile(bytes: full)
    #expect(file.dataOffset == dataOffset)
    #expect(file.tensors.last.map { $0.offset + $0.byteCount } == dataEnd)

    for cut in 0..<full.count {
        let error = caughtError { () throws(GGUFError) in _ = try GGUFFile(bytes: Array(full[..<cut])) }
        if cut < infoEnd {
            guard case let .truncated(offset, needed, fileSize, what) = error else {
                Issue.record("cut at \(cut): expected .truncated, got \(String(describing: error))")
                continue
            }
            #expect(fileSize == cut && offset <= cut && offset + needed > cut && !what.isEmpty, "cut at \(cut)")
        } else if cut < dataEnd {
            guard case let .tensorOutOfBounds(_, end, fileSize) = error else {
                Issue.record("cut at \(cut): expected .tensorOutOfBounds, got \(String(describing: error))")
                continue
            }
            #expect(fileSize == cut && end > cut, "cut at \(cut)")
        } else {
            #expect(error == nil, "cut at \(cut) only removes padding")
        }
    }
}

@Test func truncationMessageNamesWhatWasRead() {
    var raw = RawGGUF()
    raw.header(tensors: 1, entries: 0)
    raw.string("blk.0.attn_q.weight")
    raw.int(UInt32(2))
    raw.int(UInt64(576))
    let error = caughtError { () throws(GGUFError) in _ = try GGUFFile(bytes: raw.bytes) }
    let expected = GGUFError.truncated(offset: 63, needed: 8, fileSize: 63,
                                       what: "dimensions of tensor 'blk.0.attn_q.weight'")
    #expect(error == expected)
    #expect(expected.description == "GGUF file truncated at byte 63 while reading dimensions of tensor "
        + "'blk.0.attn_q.weight' (needs 8 bytes from there; file is 63 bytes)")
}

@Test func unknownValueTypes() {
    expectParseError(fileWithEntry("weird", type: 13, value: [0, 0, 0, 0]), .unknownValueType(raw: 13, key: "weird"))
    let array = le(UInt32(0xFFFF_FFFF)) + le(UInt64(1)) + [0]
    expectParseError(fileWithEntry("arr", type: 9, value: array), .unknownValueType(raw: 0xFFFF_FFFF, key: "arr"))
}

@Test func unknownTensorType() {
    expectParseError(fileWithTensor("blk.0.ffn_up.weight", dims: [32], type: 99, dataBytes: 64),
                     .unknownTensorType(tensor: "blk.0.ffn_up.weight", raw: 99))
    // Ids retired from GGUF files upstream (Q4_2 = 4, IQ4_NL_4_4 = 36) are rejected the same way.
    expectParseError(fileWithTensor(dims: [256], type: 4, dataBytes: 256), .unknownTensorType(tensor: "t", raw: 4))
    expectParseError(fileWithTensor(dims: [256], type: 36, dataBytes: 256), .unknownTensorType(tensor: "t", raw: 36))
}

@Test func typesWithoutADecoderStillParse() throws {
    // An i-quant tensor (IQ2_XXS = 16, 66 bytes per 256 weights) parses and is named; only decoding refuses.
    let file = try GGUFFile(bytes: fileWithTensor(dims: [256, 2], type: 16, dataBytes: 132))
    let tensor = try #require(file.tensor(named: "t"))
    #expect(tensor.type == .iq2_xxs && tensor.type.name == "IQ2_XXS" && tensor.byteCount == 132)
    #expect(throws: GGUFError.noDequantizer(type: .iq2_xxs)) { try Dequantize.row(tensor, in: file) }
}

@Test func tensorPastTheEnd() {
    // 64 floats need 256 bytes; only 100 follow the header (which pads to 64 bytes).
    expectParseError(fileWithTensor(dims: [64], type: 0, dataBytes: 100),
                     .tensorOutOfBounds(tensor: "t", end: 64 + 256, fileSize: 164))
    // An aligned offset far past the end, and one that overflows when added to the data offset.
    expectParseError(fileWithTensor(dims: [8], type: 0, offset: 1 << 40, dataBytes: 32),
                     .tensorOutOfBounds(tensor: "t", end: 64 + (1 << 40) + 32, fileSize: 96))
    expectParseError(fileWithTensor(dims: [8], type: 0, offset: UInt64(1) << 63, dataBytes: 32),
                     .tensorOutOfBounds(tensor: "t", end: Int.max, fileSize: 96))
    // A writer given short data for its last tensor.
    var writer = GGUFWriter()
    writer.addTensor(name: "short", dims: [32], type: .q8_0, data: Array(repeating: 0, count: 20))
    let bytes = writer.serialize()
    expectParseError(bytes, .tensorOutOfBounds(tensor: "short", end: bytes.count + 2, fileSize: bytes.count))
}

@Test func implausibleLengths() {
    expectParseError(fileWithEntry("s", type: 8, value: le(UInt64(1) << 62) + Array("abc".utf8)),
                     .implausibleCount(what: "length of string value of 's'", count: 1 << 62))
    let array = le(UInt32(4)) + le(UInt64(1) << 62) + le(UInt32(1))
    expectParseError(fileWithEntry("a", type: 9, value: array),
                     .implausibleCount(what: "length of array 'a' of uint32", count: 1 << 62))
    var raw = RawGGUF()
    raw.header(tensors: 1 << 62, entries: 0)
    expectParseError(raw.bytes, .implausibleCount(what: "tensor count", count: 1 << 62))
    raw = RawGGUF()
    raw.header(tensors: 0, entries: .max)
    expectParseError(raw.bytes, .implausibleCount(what: "metadata count", count: .max))
}

@Test func lengthsBeyondTheEndAreTruncations() {
    // A 1000-byte string with 3 bytes left (the value's length sits at byte 37).
    expectParseError(fileWithEntry("s", type: 8, value: le(UInt64(1000)) + Array("abc".utf8)),
                     .truncated(offset: 45, needed: 1000, fileSize: 48, what: "string value of 's'"))
    // 10 uint64 elements need 80 bytes; 8 are there.
    let array = le(UInt32(10)) + le(UInt64(10)) + le(UInt64(7))
    expectParseError(fileWithEntry("a", type: 9, value: array),
                     .truncated(offset: 49, needed: 80, fileSize: 57, what: "array 'a' of uint64"))
    // A million metadata entries promised, none present.
    var raw = RawGGUF()
    raw.header(tensors: 0, entries: 1_000_000)
    expectParseError(raw.bytes, .truncated(offset: 24, needed: 8, fileSize: 24, what: "length of key of metadata entry 0"))
}

@Test func badAlignments() throws {
    for bad: UInt32 in [0, 3, 48, 100] {
        expectParseError(fileWithEntry("general.alignment", type: 4, value: le(bad)), .badAlignment(Int(bad)))
    }
    expectParseError(fileWithEntry("general.alignment", type: 5, value: le(Int32(-8))), .badAlignment(-8))
    expectParseError(fileWithEntry("general.alignment", type: 8, value: le(UInt64(2)) + Array("32".utf8)),
                     .wrongValueType(key: "general.alignment", expected: "an unsigned integer"))
    let one = try GGUFFile(bytes: fileWithEntry("general.alignment", type: 4, value: le(UInt32(1))))
    #expect(one.alignment == 1 && one.dataOffset == 57)
}

@Test func missingFileAndDirectory() {
    let path = "/nonexistent-dir/definitely-missing.gguf"
    expectError(.cannotOpen(path: path, errno: ENOENT)) { () throws(GGUFError) in _ = try GGUFFile(path: path) }
    let directory = FileManager.default.temporaryDirectory.path
    expectError(.cannotOpen(path: directory, errno: EISDIR)) { () throws(GGUFError) in _ = try GGUFFile(path: directory) }
    #expect(GGUFError.cannotOpen(path: path, errno: ENOENT).description
        == "cannot open GGUF file '\(path)' (errno \(ENOENT): No such file or directory)")
}

@Test func emptyFile() throws {
    let expected = GGUFError.truncated(offset: 0, needed: 4, fileSize: 0, what: "magic")
    expectParseError([], expected)
    try withTemporaryFile([]) { path in
        expectError(expected) { () throws(GGUFError) in _ = try GGUFFile(path: path) }
    }
}

@Test func duplicates() {
    var raw = RawGGUF()
    raw.header(tensors: 0, entries: 2)
    raw.entry("k", type: 0)
    raw.bytes.append(1)
    raw.entry("k", type: 8)
    raw.string("again")
    expectParseError(raw.bytes, .duplicateKey("k"))

    raw = RawGGUF()
    raw.header(tensors: 2, entries: 0)
    raw.tensorInfo("w", dims: [1], type: 0, offset: 0)
    raw.tensorInfo("w", dims: [1], type: 0, offset: 32)
    raw.pad(to: 32)
    raw.bytes += Array(repeating: 0, count: 64)
    expectParseError(raw.bytes, .duplicateTensor("w"))
}

@Test func invalidUTF8AndBool() {
    var raw = RawGGUF()
    raw.header(tensors: 0, entries: 1)
    raw.int(UInt64(2))
    raw.bytes += [0xC3, 0x28]
    expectParseError(raw.bytes, .invalidUTF8(offset: 32))
    expectParseError(fileWithEntry("s", type: 8, value: le(UInt64(1)) + [0xFF]), .invalidUTF8(offset: 45))
    expectParseError(fileWithEntry("b", type: 7, value: [2]), .invalidBool(offset: 37, value: 2))
}

@Test func badTensorShapes() {
    expectParseError(fileWithTensor(dims: [], type: 0, dataBytes: 0), .badDimensionCount(tensor: "t", count: 0))
    expectParseError(fileWithTensor(dims: [1, 1, 1, 1, 1], type: 0, dataBytes: 4),
                     .badDimensionCount(tensor: "t", count: 5))
    expectParseError(fileWithTensor(dims: [4, 0], type: 0, dataBytes: 0), .badTensorShape(tensor: "t", dims: [4, 0]))
    expectParseError(fileWithTensor(dims: [1 << 40, 1 << 40], type: 0, dataBytes: 0),
                     .badTensorShape(tensor: "t", dims: [1 << 40, 1 << 40]))
    expectParseError(fileWithTensor(dims: [.max], type: 0, dataBytes: 0), .badTensorShape(tensor: "t", dims: [-1]))
    // F32 byte count overflows even though the element count fits.
    expectParseError(fileWithTensor(dims: [1 << 31, 1 << 31], type: 0, dataBytes: 0),
                     .badTensorShape(tensor: "t", dims: [1 << 31, 1 << 31]))
    expectParseError(fileWithTensor(dims: [33, 2], type: GGMLType.q8_0.rawValue, dataBytes: 68),
                     .rowNotBlockAligned(tensor: "t", type: .q8_0, innermost: 33))
    expectParseError(fileWithTensor(dims: [128], type: GGMLType.q6_K.rawValue, dataBytes: 210),
                     .rowNotBlockAligned(tensor: "t", type: .q6_K, innermost: 128))
}

@Test func misalignedTensorOffset() {
    expectParseError(fileWithTensor(dims: [2], type: 0, offset: 8, dataBytes: 64), .misalignedTensor(tensor: "t", offset: 8))
}

@Test func arrayNestingLimit() throws {
    /// `depth` arrays nested in each other around a single uint8.
    func nested(_ depth: Int) -> [UInt8] {
        var value: [UInt8] = []
        for _ in 0..<(depth - 1) { value += le(UInt32(9)) + le(UInt64(1)) }
        return fileWithEntry("deep", type: 9, value: value + le(UInt32(0)) + le(UInt64(1)) + [7])
    }
    var expected = GGUFValue.array([.uint8(7)])
    for _ in 1..<GGUFParser.maxArrayDepth { expected = .array([expected]) }
    let file = try GGUFFile(bytes: nested(GGUFParser.maxArrayDepth))
    #expect(file["deep"] == expected)
    expectParseError(nested(GGUFParser.maxArrayDepth + 1), .nestingTooDeep(key: "deep"))
    expectParseError(nested(100_000), .nestingTooDeep(key: "deep"))
}

@Test func everyDescriptionIsOneLine() {
    let errors: [GGUFError] = [
        .cannotOpen(path: "/x", errno: ENOENT), .truncated(offset: 1, needed: 2, fileSize: 3, what: "magic"),
        .badMagic(found: 1), .unsupportedVersion(1), .unknownValueType(raw: 13, key: "k"), .invalidUTF8(offset: 4),
        .invalidBool(offset: 5, value: 9), .duplicateKey("k"), .nestingTooDeep(key: "k"),
        .wrongValueType(key: "k", expected: "x"), .badAlignment(3), .unknownTensorType(tensor: "t", raw: 99),
        .badDimensionCount(tensor: "t", count: 5), .badTensorShape(tensor: "t", dims: [0]),
        .rowNotBlockAligned(tensor: "t", type: .q4_K, innermost: 100), .tensorOutOfBounds(tensor: "t", end: 9, fileSize: 8),
        .misalignedTensor(tensor: "t", offset: 3), .duplicateTensor("t"), .implausibleCount(what: "x", count: 1 << 62),
        .badElementCount(type: .q4_0, count: 31), .bufferTooSmall(type: .q8_0, needed: 34, available: 33),
        .rowsOutOfRange(tensor: "t", rows: 0..<5, available: 4), .heterogeneousArray(key: "k"),
        .noDequantizer(type: .iq2_xxs),
    ]
    for error in errors {
        #expect(!error.description.isEmpty && !error.description.contains("\n"), "\(error)")
    }
    #expect(GGUFError.unknownTensorType(tensor: "w", raw: 99).description == "tensor 'w' has unsupported ggml type 99")
}
