// A tiny random Llama written with GGUFWriter, run by the engine and by a naive float64 forward
// pass written here from the architecture's definition. Also: malformed models are refused by name.

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

/// Shape of the tiny model: 2 layers, width 64, 4 query heads sharing 2 KV heads, FFN 96, vocab 80.
enum Tiny {
    static let layers = 2, dim = 64, heads = 4, kvHeads = 2, ffn = 96, vocab = 80
    static let headDim = dim / heads, kvDim = kvHeads * headDim
    static let ropeBase = 10000.0, epsilon = 1e-5

    /// Random weights in `type`, as GGUF bytes for a `[rows, cols]` matrix.
    static func matrix(rows: Int, cols: Int, type: GGMLType, generator: inout SeededRandom) -> [UInt8] {
        switch type {
        case .f32:
            return (0..<(rows * cols)).flatMap { _ in withUnsafeBytes(of: Float.random(in: -0.3...0.3, using: &generator)) { Array($0) } }
        default:
            var bytes = (0..<(rows * cols / type.blockSize * type.typeSize)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let scaleOffsets = type == .q4_1 ? [0, 2] : [0]
            for block in 0..<(rows * cols / type.blockSize) {
                for offset in scaleOffsets {
                    let value = Float16(Float.random(in: -0.04...0.04, using: &generator))
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { raw in
                        bytes[block * type.typeSize + offset] = raw[0]
                        bytes[block * type.typeSize + offset + 1] = raw[1]
                    }
                }
            }
            return bytes
        }
    }

    static func norm(_ generator: inout SeededRandom) -> [UInt8] {
        (0..<dim).flatMap { _ in withUnsafeBytes(of: Float.random(in: 0.5...1.5, using: &generator)) { Array($0) } }
    }

    /// A complete tiny model; `skip` leaves one tensor out, `architecture` overrides the name.
    static func file(skip: String? = nil, architecture: String = "llama") -> [UInt8] {
        var g = SeededRandom(state: 0x7135_2024)
        var w = GGUFWriter()
        w.addMetadata("general.architecture", .string(architecture))
        w.addMetadata("\(architecture).block_count", .uint32(UInt32(layers)))
        w.addMetadata("\(architecture).embedding_length", .uint32(UInt32(dim)))
        w.addMetadata("\(architecture).feed_forward_length", .uint32(UInt32(ffn)))
        w.addMetadata("\(architecture).attention.head_count", .uint32(UInt32(heads)))
        w.addMetadata("\(architecture).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.addMetadata("\(architecture).context_length", .uint32(256))
        w.addMetadata("\(architecture).rope.freq_base", .float32(Float(ropeBase)))
        w.addMetadata("\(architecture).attention.layer_norm_rms_epsilon", .float32(Float(epsilon)))
        func add(_ name: String, _ dims: [Int], _ type: GGMLType, _ data: [UInt8]) {
            if name != skip { w.addTensor(name: name, dims: dims, type: type, data: data) }
        }
        add("token_embd.weight", [dim, vocab], .q8_0, matrix(rows: vocab, cols: dim, type: .q8_0, generator: &g))
        add("output_norm.weight", [dim], .f32, norm(&g))
        for l in 0..<layers {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", [dim], .f32, norm(&g))
            add(p + "attn_q.weight", [dim, dim], .q4_1, matrix(rows: dim, cols: dim, type: .q4_1, generator: &g))
            add(p + "attn_k.weight", [dim, kvDim], .q4_0, matrix(rows: kvDim, cols: dim, type: .q4_0, generator: &g))
            add(p + "attn_v.weight", [dim, kvDim], .q8_0, matrix(rows: kvDim, cols: dim, type: .q8_0, generator: &g))
            add(p + "attn_output.weight", [dim, dim], .f32, matrix(rows: dim, cols: dim, type: .f32, generator: &g))
            add(p + "ffn_norm.weight", [dim], .f32, norm(&g))
            add(p + "ffn_gate.weight", [dim, ffn], .q4_1, matrix(rows: ffn, cols: dim, type: .q4_1, generator: &g))
            add(p + "ffn_up.weight", [dim, ffn], .q4_1, matrix(rows: ffn, cols: dim, type: .q4_1, generator: &g))
            add(p + "ffn_down.weight", [ffn, dim], .q8_0, matrix(rows: dim, cols: ffn, type: .q8_0, generator: &g))
        }
        return w.serialize()
    }
}

/// The forward pass written plainly in float64, from dequantised weights: the definition the engine must meet.
struct NaiveLlama {
    let file: GGUFFile
    /// Weights used instead of the file's, by tensor name (row-major, as `weights` returns them).
    var overrides: [String: [Double]] = [:]

    func weights(_ name: String) throws -> [Double] {
        if let override = overrides[name] { return override }
        let info = try #require(file.tensor(named: name))
        var out = [Float](repeating: 0, count: info.elementCount)
        try Dequantize.run(info.type, from: file.data(of: info), count: info.elementCount, into: &out)
        return out.map(Double.init)
    }

    /// out[r] = Σ_c W[r, c]·x[c] for W stored as rows of `x.count`.
    func matvec(_ w: [Double], _ x: [Double]) -> [Double] {
        (0..<(w.count / x.count)).map { r in (0..<x.count).reduce(0) { $0 + w[r * x.count + $1] * x[$1] } }
    }

    func rmsNorm(_ x: [Double], _ g: [Double]) -> [Double] {
        let scale = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Tiny.epsilon).squareRoot()
        return zip(x, g).map { $0 * scale * $1 }
    }

    func rope(_ v: inout [Double], heads: Int, position: Int) {
        for h in 0..<heads {
            for i in 0..<(Tiny.headDim / 2) {
                let angle = Double(position) * pow(Tiny.ropeBase, -2 * Double(i) / Double(Tiny.headDim))
                let a = v[h * Tiny.headDim + 2 * i], b = v[h * Tiny.headDim + 2 * i + 1]
                v[h * Tiny.headDim + 2 * i] = a * cos(angle) - b * sin(angle)
                v[h * Tiny.headDim + 2 * i + 1] = a * sin(angle) + b * cos(angle)
            }
        }
    }

    /// Logits after the last of `tokens`.
    func logits(_ tokens: [Int]) throws -> [Double] {
        let embedding = try weights("token_embd.weight")
        var keys = Array(repeating: [[Double]](), count: Tiny.layers), values = keys
        var last: [Double] = []
        for (position, token) in tokens.enumerated() {
            var x = Array(embedding[(token * Tiny.dim)..<((token + 1) * Tiny.dim)])
            for l in 0..<Tiny.layers {
                let p = "blk.\(l)."
                let xn = rmsNorm(x, try weights(p + "attn_norm.weight"))
                var q = matvec(try weights(p + "attn_q.weight"), xn), k = matvec(try weights(p + "attn_k.weight"), xn)
                let v = matvec(try weights(p + "attn_v.weight"), xn)
                rope(&q, heads: Tiny.heads, position: position)
                rope(&k, heads: Tiny.kvHeads, position: position)
                keys[l].append(k); values[l].append(v)
                var attention = [Double](repeating: 0, count: Tiny.dim)
                for h in 0..<Tiny.heads {
                    let kvh = h / (Tiny.heads / Tiny.kvHeads), hd = Tiny.headDim
                    let scores = keys[l].map { key in
                        (0..<hd).reduce(0) { $0 + q[h * hd + $1] * key[kvh * hd + $1] } / Double(hd).squareRoot()
                    }
                    let top = scores.max() ?? 0
                    let e = scores.map { exp($0 - top) }, total = e.reduce(0, +)
                    for (j, value) in values[l].enumerated() {
                        for i in 0..<hd { attention[h * hd + i] += e[j] / total * value[kvh * hd + i] }
                    }
                }
                x = zip(x, matvec(try weights(p + "attn_output.weight"), attention)).map(+)
                let hn = rmsNorm(x, try weights(p + "ffn_norm.weight"))
                let gate = matvec(try weights(p + "ffn_gate.weight"), hn), up = matvec(try weights(p + "ffn_up.weight"), hn)
                let hidden = zip(gate, up).map { $0 / (1 + exp(-$0)) * $1 }
                x = zip(x, matvec(try weights(p + "ffn_down.weight"), hidden)).map(+)
            }
            last = x
        }
        return matvec(embedding, rmsNorm(last, try weights("output_norm.weight")))
    }
}

@Suite("Tiny random Llama against a float64 forward pass")
struct TinyModelTests {
    /// Engine paths: token by token; quantised small-batch kernel; sgemm on whole slices; sgemm on
    /// tiles of 3 rows (so slices split into uneven tiles).
    static let paths: [(batchThreshold: Int, smallBatch: Int, tileRows: Int)] = [
        (Int.max, 5, 32), (1, 64, 32), (1, 0, 1 << 20), (1, 0, 3),
    ]

    @Test("every engine path matches the naive float64 forward pass", arguments: 0..<4)
    func matchesNaiveForward(path: Int) throws {
        let file = try GGUFFile(bytes: Tiny.file())
        let model = try ModelWeights(file: file)
        let transformer = Transformer(model: model, maxBatch: 8)
        (transformer.batchThreshold, transformer.smallBatch, transformer.tileRows) = Self.paths[path]
        let tokens = [3, 17, 42, 5, 79, 0, 11, 23, 64, 8, 8, 31]   // 12 tokens: two prefill chunks of ≤ 8
        let cache = KVCache(config: model.config, capacity: 16)
        try transformer.evaluate(tokens, cache: cache)
        let expected = try NaiveLlama(file: file).logits(tokens)
        let got = transformer.logitsArray()
        let worst = zip(got, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(got.count == Tiny.vocab)
        #expect(worst < 1e-3, "worst logit error \(worst)")
    }

    @Test("a missing tensor is named")
    func missingTensor() throws {
        let file = try GGUFFile(bytes: Tiny.file(skip: "blk.1.ffn_up.weight"))
        #expect(throws: InferenceError.missingTensor("blk.1.ffn_up.weight")) { try ModelWeights(file: file) }
    }

    @Test("an unsupported architecture is refused by name")
    func unsupportedArchitecture() throws {
        let file = try GGUFFile(bytes: Tiny.file(architecture: "mamba"))
        #expect(throws: InferenceError.unsupportedArchitecture("mamba")) { try ModelWeights(file: file) }
    }

    @Test("a truncated copy of the real model is a GGUF error, not a crash")
    func truncatedRealModel() throws {
        _ = try TestPaths.requireModel()
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: TestModel.path))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolrouter-tests-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for cut in [10, 3_000_000, 98_000_000] {
            try handle.seek(toOffset: 0)
            let prefix = try handle.read(upToCount: cut) ?? Data()
            let path = directory.appendingPathComponent("cut-\(cut).gguf").path
            _ = FileManager.default.createFile(atPath: path, contents: prefix)
            do {
                _ = try ModelWeights(path: path)
                Issue.record("a model cut at \(cut) bytes loaded")
            } catch {
                guard case .file(let inner) = error else { Issue.record("cut \(cut): wrong error \(error)"); continue }
                #expect("\(inner)".count > 10)
            }
        }
    }
}
