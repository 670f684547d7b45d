// Reference dequantisers against values from the `gguf` Python package (gguf.quants.dequantize),
// recorded in Fixtures/dequant_reference.json by scripts/reference/dequant_fixture.py.
//
// Synthetic blocks (hex in the fixture) need nothing else. The real-tensor entries read rows of
// Gemma 3 270M (models/gemma-3-270m-q4_k_m.gguf, from `scripts/setup --model gemma3-270m`, or
// $TOOLROUTER_GEMMA_MODEL); like the SmolLM2 tests they fail, with that instruction, when it is absent.

import Foundation
import Testing
@testable import GGUF

/// The fixture file's shape.
private struct DequantFixture: Decodable {
    struct Real: Decodable {
        let tensor: String, type: String, row: Int, count: Int
        let leading: [Float]
        let checksum: Double
    }
    struct Synthetic: Decodable {
        let type: String, blocks: Int, hex: String
        let values: [Float]
    }
    let real: [Real]
    let synthetic: [Synthetic]
}

private func loadFixture() throws -> DequantFixture {
    let url = packageRoot().appendingPathComponent("Tests/GGUFTests/Fixtures/dequant_reference.json")
    return try JSONDecoder().decode(DequantFixture.self, from: Data(contentsOf: url))
}

private func type(named name: String) throws -> GGMLType {
    try #require(GGMLType.allCases.first { $0.name == name }, "fixture names unknown type \(name)")
}

/// Bytes from a hex string (the fixture's synthetic blocks).
private func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
        out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return out
}

/// Σ v_i·w_i with w_i = (7919·i mod 17) − 8, in Double, and Σ |v_i·w_i| for the tolerance.
private func checksum(_ values: [Float]) -> (sum: Double, magnitude: Double) {
    var sum = 0.0, magnitude = 0.0
    for (i, v) in values.enumerated() {
        let term = Double(v) * Double((7919 * i) % 17 - 8)
        sum += term
        magnitude += abs(term)
    }
    return (sum, magnitude)
}

@Test func syntheticBlocksMatchPythonGGUF() throws {
    let fixture = try loadFixture()
    #expect(Set(fixture.synthetic.map(\.type)).isSuperset(of: ["Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]))
    for entry in fixture.synthetic {
        let type = try type(named: entry.type)
        let raw = bytes(hex: entry.hex)
        #expect(raw.count == entry.blocks * type.typeSize, "\(entry.type)")
        let got = try Dequantize.row(type, from: raw, count: entry.blocks * type.blockSize)
        try #require(got.count == entry.values.count)
        var mismatches = 0
        for i in got.indices where abs(got[i] - entry.values[i]) > 1e-6 * max(1, abs(entry.values[i])) {
            mismatches += 1
            if mismatches <= 3 { Issue.record("\(entry.type) weight \(i): \(got[i]) vs Python \(entry.values[i])") }
        }
        #expect(mismatches == 0, "\(entry.type): \(mismatches) weights differ")
    }
}

/// Path of Gemma 3 270M: $TOOLROUTER_GEMMA_MODEL, else <package root>/models/gemma-3-270m-q4_k_m.gguf.
private func gemmaPath() throws -> String {
    let path = ProcessInfo.processInfo.environment["TOOLROUTER_GEMMA_MODEL"]
        ?? packageRoot().appendingPathComponent("models/gemma-3-270m-q4_k_m.gguf").path
    try #require(FileManager.default.fileExists(atPath: path), """
        Gemma 3 270M not found at \(path). Run `scripts/setup --model gemma3-270m` \
        or set TOOLROUTER_GEMMA_MODEL to its path.
        """)
    return path
}

@Test func gemmaRowsMatchPythonGGUF() throws {
    let fixture = try loadFixture()
    let file = try GGUFFile(path: try gemmaPath())
    #expect(Set(fixture.real.map(\.type)).isSuperset(of: ["Q8_0", "Q5_0", "Q4_K", "Q6_K", "F32"]))
    for entry in fixture.real {
        let tensor = try #require(file.tensor(named: entry.tensor), "\(entry.tensor) missing from the Gemma file")
        #expect(tensor.type.name == entry.type, "\(entry.tensor)")
        let row = try Dequantize.row(tensor, in: file, rows: entry.row..<(entry.row + 1))
        #expect(row.count == entry.count, "\(entry.tensor)")
        for (i, want) in entry.leading.enumerated() {
            #expect(abs(row[i] - want) <= 1e-6 * max(1, abs(want)), "\(entry.tensor) row \(entry.row) weight \(i): \(row[i]) vs \(want)")
        }
        let (sum, magnitude) = checksum(row)
        #expect(abs(sum - entry.checksum) <= 1e-6 * max(1, magnitude), "\(entry.tensor) row \(entry.row): checksum \(sum) vs \(entry.checksum)")
    }
}

@Test func gemmaFileParsesWithEveryTypeNamed() throws {
    let file = try GGUFFile(path: try gemmaPath())
    let types = Set(file.tensors.map(\.type))
    #expect(types == [.f32, .q8_0, .q5_0, .q4_K, .q6_K])
    #expect(file.tensors.allSatisfy { $0.type.hasReferenceDequantizer })
    let embedding = try #require(file.tensor(named: "token_embd.weight"))
    #expect(embedding.dims == [640, 262144] && embedding.type == .q8_0)
}
