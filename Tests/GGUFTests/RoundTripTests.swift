// Files written with GGUFWriter read back identically, from memory and from disk.

import Foundation
import Testing
@testable import GGUF

/// Every metadata value type, including nested arrays, empty arrays and non-ASCII strings.
private let sampleMetadata: [(String, GGUFValue)] = [
    ("general.architecture", .string("llama")),
    ("general.alignment", .uint32(64)),
    ("test.uint8", .uint8(255)),
    ("test.int8", .int8(-128)),
    ("test.uint16", .uint16(65535)),
    ("test.int16", .int16(-32768)),
    ("test.uint32", .uint32(4_000_000_000)),
    ("test.int32", .int32(-2_000_000_000)),
    ("test.float32", .float32(3.25)),
    ("test.bool.true", .bool(true)),
    ("test.bool.false", .bool(false)),
    ("test.string.empty", .string("")),
    ("test.string.unicode", .string("héllo → 世界 🦙\n\t\"quoted\"")),
    ("test.uint64", .uint64(.max)),
    ("test.int64", .int64(.min)),
    ("test.float64", .float64(-1.0e300)),
    ("test.array.uint8", .array([.uint8(0), .uint8(1), .uint8(255)])),
    ("test.array.int32", .array([.int32(-1), .int32(7)])),
    ("test.array.float32", .array([.float32(0.5), .float32(-2)])),
    ("test.array.bool", .array([.bool(true), .bool(false)])),
    ("test.array.strings", .array([.string("a"), .string(""), .string("Ġthe"), .string("ü")])),
    ("test.array.uint64", .array([.uint64(1), .uint64(.max)])),
    ("test.array.float64", .array([.float64(1e-300)])),
    ("test.array.empty", .array([])),
    ("test.array.nested", .array([
        .array([.int16(1), .int16(-2)]),
        .array([.string("x"), .string("yz")]),
        .array([]),
        .array([.array([.float64(2.5)]), .array([.bool(true)])]),
    ])),
]

/// A few tensors of different types, with recognisable data bytes.
private let sampleTensors: [(name: String, dims: [Int], type: GGMLType)] = [
    ("f32.matrix", [4, 3], .f32),
    ("f16.vector", [7], .f16),
    ("q8_0.matrix", [64, 2], .q8_0),
    ("q4_1.vector", [32], .q4_1),
    ("q4_0.matrix", [32, 3], .q4_0),
    ("q4_K.matrix", [256, 2], .q4_K),
    ("q6_K.cube", [256, 1, 2], .q6_K),
    ("bf16.tensor4d", [3, 2, 2, 1], .bf16),
]

/// Data bytes for tensor `index`: a pattern that differs per tensor and per byte.
private func sampleData(_ index: Int, _ dims: [Int], _ type: GGMLType) -> [UInt8] {
    let count = type.byteCount(elements: dims.reduce(1, *)) ?? 0
    return (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &* 7 &+ 1) }
}

/// A writer holding the sample metadata and tensors.
private func sampleWriter() throws -> GGUFWriter {
    var writer = GGUFWriter()
    for (key, value) in sampleMetadata { writer.addMetadata(key, value) }
    try writer.validate()
    for (index, tensor) in sampleTensors.enumerated() {
        writer.addTensor(name: tensor.name, dims: tensor.dims, type: tensor.type,
                         data: sampleData(index, tensor.dims, tensor.type))
    }
    return writer
}

/// Checks that `file` holds exactly the sample metadata and tensors.
private func checkSample(_ file: GGUFFile, version: UInt32) {
    #expect(file.version == version)
    #expect(file.alignment == 64)
    #expect(file.metadataKeys == sampleMetadata.map(\.0))
    #expect(file.metadata.count == sampleMetadata.count)
    for (key, value) in sampleMetadata {
        #expect(file[key] == value, "metadata \(key)")
    }
    #expect(file.dataOffset % 64 == 0)
    #expect(file.tensors.map(\.name) == sampleTensors.map(\.name))
    var previousEnd = file.dataOffset
    for (index, expected) in sampleTensors.enumerated() {
        guard let info = file.tensor(named: expected.name) else {
            Issue.record("missing tensor \(expected.name)")
            continue
        }
        #expect(info == file.tensors[index])
        #expect(info.dims == expected.dims)
        #expect(info.type == expected.type)
        #expect(info.elementCount == expected.dims.reduce(1, *))
        #expect(info.byteCount == expected.type.byteCount(elements: info.elementCount))
        #expect(info.offset % 64 == 0, "\(info.name) offset \(info.offset)")
        #expect(info.offset >= previousEnd)
        previousEnd = info.offset + info.byteCount
        #expect(Array(file.data(of: info)) == sampleData(index, expected.dims, expected.type))
    }
    #expect(previousEnd <= file.fileSize)
    #expect(file.tensor(named: "no.such.tensor") == nil)
}

@Test func roundTripInMemory() throws {
    let bytes = try sampleWriter().serialize()
    let file = try GGUFFile(bytes: bytes)
    checkSample(file, version: 3)
    #expect(file.fileSize == bytes.count)
}

@Test func roundTripVersion2() throws {
    let file = try GGUFFile(bytes: try sampleWriter().serialize(version: 2))
    checkSample(file, version: 2)
}

@Test func roundTripThroughFile() throws {
    let bytes = try sampleWriter().serialize()
    let file = try withTemporaryFile(bytes) { path in try GGUFFile(path: path) }
    // The mapping outlives the temporary file's directory entry.
    checkSample(file, version: 3)
    #expect(file.fileSize == bytes.count)
}

@Test func defaultAlignmentIs32() throws {
    var writer = GGUFWriter()
    writer.addMetadata("general.name", .string("tiny"))
    writer.addTensor(name: "a", dims: [3], type: .f32, data: Array(repeating: 1, count: 12))
    writer.addTensor(name: "b", dims: [5], type: .f16, data: Array(repeating: 2, count: 10))
    #expect(writer.alignment == 32)
    let file = try GGUFFile(bytes: writer.serialize())
    #expect(file.alignment == 32)
    #expect(file.dataOffset % 32 == 0)
    #expect(file.tensors.map { $0.offset - file.dataOffset } == [0, 32])
    #expect(Array(file.data(of: file.tensors[1])) == Array(repeating: 2, count: 10))
}

@Test func writerMatchesHandBuiltBytes() throws {
    var writer = GGUFWriter()
    writer.addMetadata("k", .array([.string("ab")]))
    writer.addMetadata("n", .uint32(7))
    writer.addTensor(name: "t", dims: [2], type: .f32, data: [1, 2, 3, 4, 5, 6, 7, 8])

    var raw = RawGGUF()
    raw.header(tensors: 1, entries: 2)
    raw.entry("k", type: 9)
    raw.int(UInt32(8))
    raw.int(UInt64(1))
    raw.string("ab")
    raw.entry("n", type: 4)
    raw.int(UInt32(7))
    raw.tensorInfo("t", dims: [2], type: 0, offset: 0)
    raw.pad(to: 32)
    raw.bytes += [1, 2, 3, 4, 5, 6, 7, 8]
    raw.pad(to: 32)
    #expect(writer.serialize() == raw.bytes)
}

@Test func replacingMetadataKeepsPosition() throws {
    var writer = GGUFWriter()
    writer.addMetadata("a", .uint8(1))
    writer.addMetadata("b", .uint8(2))
    writer.addMetadata("a", .string("again"))
    let file = try GGUFFile(bytes: writer.serialize())
    #expect(file.metadataKeys == ["a", "b"])
    #expect(file.string("a") == "again")
}

@Test func writerValidatesArrays() throws {
    var writer = GGUFWriter()
    writer.addMetadata("fine", .array([.array([.uint8(1)]), .array([.string("x")])]))
    try writer.validate()
    writer.addMetadata("mixed", .array([.uint8(1), .string("x")]))
    writer.addMetadata("inner", .array([.array([.int32(1), .int64(2)])]))
    expectError(.heterogeneousArray(key: "mixed")) { () throws(GGUFError) in try writer.validate() }
    writer.addMetadata("mixed", .array([]))
    expectError(.heterogeneousArray(key: "inner")) { () throws(GGUFError) in try writer.validate() }
}

@Test func writerAlignment() {
    var writer = GGUFWriter()
    #expect(writer.alignment == 32)
    writer.addMetadata("general.alignment", .uint32(64))
    #expect(writer.alignment == 64)
    writer.addMetadata("general.alignment", .uint64(1 << 40))
    #expect(writer.alignment == 32)
    writer.addMetadata("general.alignment", .string("64"))
    #expect(writer.alignment == 32)
}

@Test func headerOnlyFile() throws {
    let file = try GGUFFile(bytes: GGUFWriter().serialize())
    #expect(file.metadata.isEmpty && file.tensors.isEmpty)
    #expect(file.fileSize == 32)  // the writer pads the header to the alignment
    #expect(file.dataOffset == 32)
}

@Test func typedAccessors() throws {
    var writer = GGUFWriter()
    writer.addMetadata("u8", .uint8(200))
    writer.addMetadata("i16", .int16(-5))
    writer.addMetadata("u64.big", .uint64(.max))
    writer.addMetadata("f32", .float32(0.25))
    writer.addMetadata("s", .string("text"))
    writer.addMetadata("strings", .array([.string("a"), .string("b")]))
    writer.addMetadata("ints", .array([.int32(-1), .int32(2)]))
    writer.addMetadata("bools", .array([.bool(true)]))
    let file = try GGUFFile(bytes: writer.serialize())

    #expect(file.int("u8") == 200)
    #expect(file.int("i16") == -5)
    #expect(file.int("u64.big") == nil)
    #expect(file.float("u64.big") == 18_446_744_073_709_551_615.0)
    #expect(file.float("f32") == 0.25)
    #expect(file.float("i16") == -5)
    #expect(file.int("f32") == nil && file.int("s") == nil && file.int("missing") == nil)
    #expect(file.string("s") == "text")
    #expect(file.string("u8") == nil)
    #expect(file.stringArray("strings") == ["a", "b"])
    #expect(file.stringArray("ints") == nil)
    #expect(file.intArray("ints") == [-1, 2])
    #expect(file.intArray("strings") == nil)
    #expect(file.intArray("bools") == nil)
    #expect(file["bools"]?.arrayValue?.first?.boolValue == true)
    #expect(file["s"]?.arrayValue == nil)
}

@Test func dataOfForeignTensorIsEmpty() throws {
    var small = GGUFWriter()
    small.addTensor(name: "x", dims: [1], type: .f32, data: [0, 0, 0, 0])
    var big = GGUFWriter()
    big.addTensor(name: "y", dims: [4096], type: .f32, data: Array(repeating: 0, count: 16384))
    let smallFile = try GGUFFile(bytes: small.serialize())
    let bigFile = try GGUFFile(bytes: big.serialize())
    let foreign = try #require(bigFile.tensor(named: "y"))
    #expect(smallFile.data(of: foreign).isEmpty)
}

@Test func fileIsSendableAcrossTasks() async throws {
    let file = try GGUFFile(bytes: try sampleWriter().serialize())
    let counts = await withTaskGroup(of: Int.self) { group in
        for tensor in file.tensors {
            group.addTask { file.data(of: tensor).reduce(0) { $0 + Int($1) } }
        }
        return await group.reduce(into: []) { $0.append($1) }
    }
    #expect(counts.count == sampleTensors.count)
}
