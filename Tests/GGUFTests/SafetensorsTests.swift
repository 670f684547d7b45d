// The safetensors reader: round trips through the writer, and every kind of malformed file is a
// typed error, never a crash — including a valid file cut at every byte.

import Foundation
import JSON
import Testing
@testable import GGUF

/// A file from a header text and data bytes, with the 8-byte length computed from the header.
private func rawFile(header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let text = Array(header.utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: (length ?? UInt64(text.count)).littleEndian) { out.append(contentsOf: $0) }
    return out + text + data
}

/// The error `bytes` gives, or nil if they parse.
private func error(_ bytes: [UInt8]) -> SafetensorsError? {
    do {
        _ = try SafetensorsFile(bytes: bytes)
        return nil
    } catch {
        return error
    }
}

/// A small valid file: two float tensors in different dtypes, an int tensor, a scalar, and metadata.
private func sampleFile() -> (bytes: [UInt8], a: [Float], b: [Float]) {
    var generator = SeededGenerator(seed: 7)
    let a = (0..<12).map { _ in Float.random(in: -2...2, using: &generator) }
    let b = (0..<6).map { _ in Float.random(in: -2...2, using: &generator) }
    var writer = SafetensorsWriter()
    writer.addMetadata("format", "pt")
    writer.add(name: "a", shape: [3, 4], values: a)
    writer.add(name: "b", shape: [2, 3], values: b, dtype: .bf16)
    writer.addRaw(name: "ids", dtype: "I32", shape: [2], data: [1, 0, 0, 0, 2, 0, 0, 0])
    writer.add(name: "scalar", shape: [], values: [0.5], dtype: .f16)
    return (writer.serialize(), a, b)
}

@Suite("safetensors reader")
struct SafetensorsTests {
    @Test("writer and reader round-trip F32, F16 and BF16 tensors, shapes and metadata")
    func roundTrip() throws {
        let (bytes, a, b) = sampleFile()
        let file = try SafetensorsFile(bytes: bytes)
        #expect(file.tensors.map(\.name) == ["a", "b", "ids", "scalar"])
        #expect(file.metadata == ["format": "pt"])
        #expect(file.dataOffset % 8 == 0)
        let infoA = try #require(file.tensor(named: "a"))
        #expect(infoA.shape == [3, 4] && infoA.dtype == .f32 && infoA.elementCount == 12)
        #expect(try file.floats(of: infoA) == a)
        let readB = try file.floats(named: "b")
        #expect(readB.count == 6)
        for (got, want) in zip(readB, b) { #expect(abs(got - want) <= abs(want) * 0x1p-8, "bf16 \(got) vs \(want)") }
        #expect(try file.floats(named: "scalar") == [0.5])
        #expect(throws: SafetensorsError.notFloat(tensor: "ids", dtype: .i32)) { try file.floats(named: "ids") }
        #expect(throws: SafetensorsError.noSuchTensor("nope")) { try file.floats(named: "nope") }
    }

    @Test("F16 values read back exactly when they are representable")
    func halfValues() throws {
        var writer = SafetensorsWriter()
        let values: [Float] = [0, -0, 1, -2.5, 65504, 0x1p-24, 0.333251953125]
        writer.add(name: "h", shape: [values.count], values: values, dtype: .f16)
        #expect(try SafetensorsFile(bytes: writer.serialize()).floats(named: "h") == values)
    }

    @Test("a valid file cut at every byte is a typed error naming the part that is missing")
    func everyCut() throws {
        let (bytes, _, _) = sampleFile()
        let headerEnd = try SafetensorsFile(bytes: bytes).dataOffset
        for cut in 0..<bytes.count {
            let found = error(Array(bytes.prefix(cut)))
            switch found {
            case .tooShort?: #expect(cut < 8, "cut \(cut)")
            case .headerLength?: #expect(cut >= 8 && cut < headerEnd, "cut \(cut)")
            case .offsetsOutOfRange?: #expect(cut >= headerEnd, "cut \(cut)")
            case nil: Issue.record("a file cut at \(cut) of \(bytes.count) bytes parsed")
            case let other?: Issue.record("cut \(cut): unexpected \(other)")
            }
        }
        #expect(error(bytes) == nil)
    }

    @Test("random byte changes never crash the reader", arguments: [1, 2, 3])
    func mutations(seed: UInt64) {
        let (bytes, _, _) = sampleFile()
        var generator = SeededGenerator(seed: seed)
        var failures = 0
        for _ in 0..<2000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let found = error(mutated) { failures += 1; #expect(!found.description.isEmpty) }
        }
        #expect(failures > 0)
    }

    @Test("header length past the end of the file, or absurd")
    func headerLength() {
        #expect(error(rawFile(header: "{}", length: 3)) == .headerLength(length: 3, fileSize: 10))
        #expect(error(rawFile(header: "{}", length: UInt64.max)) == .headerLength(length: UInt64.max, fileSize: 10))
        #expect(error(rawFile(header: "{}", length: 200_000_000)) == .headerLength(length: 200_000_000, fileSize: 10))
        #expect(error([1, 0, 0]) == .tooShort(size: 3))
        #expect(error(rawFile(header: "{}")) == nil)
    }

    @Test("a header that is not JSON, or not an object")
    func headerNotJSON() {
        guard case .headerNotJSON? = error(rawFile(header: "{\"a\": ")) else { Issue.record("truncated JSON accepted"); return }
        guard case .headerNotJSON? = error(rawFile(header: "\u{FF}\u{FE}")) else { Issue.record("garbage accepted"); return }
        guard case .headerNotJSON? = error(rawFile(header: "{\"a\":1,\"a\":2}")) else { Issue.record("duplicate key accepted"); return }
        #expect(error(rawFile(header: "[]")) == .headerNotObject)
        #expect(error(rawFile(header: "\"text\"")) == .headerNotObject)
    }

    @Test("bad entries name the tensor and the field", arguments: [
        ("{\"t\":1}", "is not an object"),
        ("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\""),
        ("{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\""),
        ("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "\"shape\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", "\"shape\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "\"shape\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "\"shape\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", "too many elements"),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", "\"data_offsets\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "\"data_offsets\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "\"data_offsets\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "\"data_offsets\""),
        ("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0-4\"}}", "\"data_offsets\""),
    ])
    func badEntry(header: String, mention: String) {
        guard case let .badEntry(tensor, reason)? = error(rawFile(header: header, data: [0, 0, 0, 0])) else {
            Issue.record("\(header): not a bad-entry error: \(String(describing: error(rawFile(header: header, data: [0, 0, 0, 0]))))")
            return
        }
        #expect(tensor == "t")
        #expect(reason.contains(mention), "\(reason)")
    }

    @Test("unknown dtype, offsets out of range, size mismatch, overlap, bad metadata")
    func dataChecks() {
        let four: [UInt8] = [0, 0, 0, 0]
        #expect(error(rawFile(header: "{\"t\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: four))
                == .unknownDType(tensor: "t", dtype: "F7"))
        #expect(error(rawFile(header: "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: four))
                == .offsetsOutOfRange(tensor: "t", begin: 0, end: 8, dataSize: 4))
        #expect(error(rawFile(header: "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: four))
                == .sizeMismatch(tensor: "t", expected: 8, found: 4))
        #expect(error(rawFile(header: "{\"t\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: four))
                == .sizeMismatch(tensor: "t", expected: 2, found: 4))
        #expect(error(rawFile(header: "{\"t\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                                + "\"u\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[2,4]}}", data: four))
                == .overlapping(first: "t", second: "u"))
        #expect(error(rawFile(header: "{\"__metadata__\":{\"k\":1}}")) == .badMetadata(reason: "value of 'k' is not a string"))
        #expect(error(rawFile(header: "{\"__metadata__\":[]}")) == .badMetadata(reason: "is not an object"))
        // Empty tensors may share an offset; a zero-dimension shape has no bytes.
        #expect(error(rawFile(header: "{\"t\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                                + "\"u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: four)) == nil)
    }

    @Test("files are read from disk, and a missing file is named")
    func fromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (bytes, a, _) = sampleFile()
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        #expect(try SafetensorsFile(path: path).floats(named: "a") == a)
        #expect(throws: SafetensorsError.cannotOpen(path: path + ".missing", errno: ENOENT)) {
            try SafetensorsFile(path: path + ".missing")
        }
    }
}
