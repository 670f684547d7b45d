// LoRA in the engine: an adapter applied unmerged must compute what the float64 forward pass
// computes on weights with the adapter merged in (Hugging Face layout, q/k rows moved by the
// test's own statement of the GGUF permutation), on every engine path; merged and unmerged must
// agree on the tiny model and on the real one; GGUF adapters must load as the converter writes them.

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

/// The adapter the tiny-model tests use: every projection, r = 4 and alpha = 8 by default, with a
/// rank pattern (k_proj → 2, layer 1's down_proj → 6) and an alpha pattern (v_proj → 3).
enum TinyAdapter {
    static let config = """
    {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
     "rank_pattern": {"k_proj": 2, "layers\\\\.1\\\\.mlp\\\\.down_proj": 6}, "alpha_pattern": {"v_proj": 3},
     "bias": "none", "use_rslora": false, "use_dora": false, "fan_in_fan_out": false, "modules_to_save": null}
    """

    static func rank(_ layer: Int, _ p: LoRAProjection) -> Int {
        p == .k ? 2 : (layer == 1 && p == .down ? 6 : 4)
    }

    static func scale(_ layer: Int, _ p: LoRAProjection) -> Double {
        (p == .v ? 3.0 : 8.0) / Double(rank(layer, p))
    }

    static func hf(_ config: ModelConfig, seed: UInt64 = 11) -> HFAdapter {
        HFAdapter.random(config: config, seed: seed, rank: rank, scale: scale)
    }

    /// Writes the PEFT directory and loads it.
    static func load(_ adapter: HFAdapter, config: ModelConfig) throws -> LoRAAdapter {
        let dir = try TemporaryDirectory("peft")
        defer { dir.cleanup() }
        try dir.write("adapter_config.json", text: Self.config)
        try dir.write("adapter_model.safetensors", adapter.safetensors())
        return try LoRAAdapter.load(path: dir.path, config: config)
    }
}

@Suite("LoRA adapters in the engine")
struct LoRAEngineTests {
    static let tokens = [3, 17, 42, 5, 79, 0, 11, 23, 64, 8, 8, 31]

    /// Logits of `tokens` on `transformer` set to engine path `path` (see TinyModelTests.paths).
    static func logits(_ transformer: Transformer, path: Int, tokens: [Int] = tokens) throws -> [Float] {
        (transformer.batchThreshold, transformer.smallBatch, transformer.tileRows) = TinyModelTests.paths[path]
        let cache = KVCache(config: transformer.model.config, capacity: 16)
        try transformer.evaluate(tokens, cache: cache)
        return transformer.logitsArray()
    }

    @Test("unmerged PEFT adapter = float64 forward on HF-layout merged weights, on every engine path", arguments: 0..<4)
    func matchesMergedReference(path: Int) throws {
        let (file, model) = try tinyModel()
        let hf = TinyAdapter.hf(model.config)
        let adapter = try TinyAdapter.load(hf, config: model.config)
        let reference = NaiveLlama(file: file, overrides: try hf.mergedWeights(file: file, config: model.config))
        let expected = try reference.logits(Self.tokens)
        let transformer = Transformer(model: model, maxBatch: 8)
        let base = try Self.logits(transformer, path: path)
        transformer.adapter = adapter
        let got = try Self.logits(transformer, path: path)
        let worst = worstDifference(got, expected)
        #expect(worst < 1e-3, "worst logit error \(worst)")
        // The adapter must matter, or the comparison above proves nothing.
        #expect(worstDifference(base, expected) > 0.05, "adapter changes logits by only \(worstDifference(base, expected))")
        // Without the q/k permutation the engine must disagree with the reference.
        let unpermuted = try Self.withoutPermutation(adapter)
        transformer.adapter = unpermuted
        #expect(worstDifference(try Self.logits(transformer, path: path), expected) > 1e-2)
    }

    /// `adapter` with the q and k B rows put back in Hugging Face order (what a loader that forgot the permutation would give).
    static func withoutPermutation(_ adapter: LoRAAdapter) throws -> LoRAAdapter {
        let hd = adapter.config.headDim
        let layers = try adapter.layers.map { layer in
            var copy = layer
            for p in [LoRAProjection.q, .k] {
                guard let w = layer[p] else { continue }
                // GGUF row g holds HF row huggingFaceRow(g): scatter back.
                var hfOrder = w.b
                for g in 0..<w.outputs {
                    let h = huggingFaceRow(ofGGUFRow: g, headDim: hd)
                    for k in 0..<w.rank { hfOrder[h * w.rank + k] = w.b[g * w.rank + k] }
                }
                copy[p] = try LoRAWeights(rank: w.rank, inputs: w.inputs, outputs: w.outputs, a: w.a, b: hfOrder, scale: w.scale)
            }
            return copy
        }
        return try LoRAAdapter(config: adapter.config, layers: layers)
    }

    @Test("the loader's per-module ranks and scales follow the patterns")
    func scalesFollowPatterns() throws {
        let (_, model) = try tinyModel()
        let adapter = try TinyAdapter.load(TinyAdapter.hf(model.config), config: model.config)
        for (l, layer) in adapter.layers.enumerated() {
            for p in LoRAProjection.allCases {
                let w = try #require(layer[p])
                #expect(w.rank == TinyAdapter.rank(l, p), "layer \(l) \(p)")
                #expect(abs(Double(w.scale) - TinyAdapter.scale(l, p)) < 1e-6, "layer \(l) \(p): scale \(w.scale)")
            }
        }
        #expect(adapter.maxRank == 6)
        #expect(adapter.projections == LoRAProjection.allCases)
    }

    @Test("unmerged and merged adapters give the same logits on the tiny model", arguments: 0..<4)
    func mergedMatchesUnmergedTiny(path: Int) throws {
        let (_, model) = try tinyModel()
        let adapter = try TinyAdapter.load(TinyAdapter.hf(model.config, seed: 5), config: model.config)
        let unmerged = Transformer(model: model, maxBatch: 8)
        unmerged.adapter = adapter
        let merged = Transformer(model: try model.merging(adapter), maxBatch: 8)
        #expect(merged.model.layers[0].wq.type == .f32 && merged.model.layers[0].wq.owner != nil)
        let worst = worstDifference(try Self.logits(unmerged, path: path), try Self.logits(merged, path: path))
        #expect(worst < 1e-3, "worst logit difference \(worst)")
    }

    @Test("a nil adapter is the base model, bit for bit, after an adapter was set")
    func nilAdapterIsBase() throws {
        let (_, model) = try tinyModel()
        let transformer = Transformer(model: model, maxBatch: 8)
        for path in 0..<4 {
            let base = try Self.logits(transformer, path: path)
            transformer.adapter = try TinyAdapter.load(TinyAdapter.hf(model.config), config: model.config)
            _ = try Self.logits(transformer, path: path)
            transformer.adapter = nil
            #expect(try Self.logits(transformer, path: path) == base)
        }
    }

    @Test("an adapter loaded for another model is refused by evaluate and by merging")
    func adapterForAnotherModel() throws {
        let (_, model) = try tinyModel()
        let (_, other) = try tinyModel()
        let adapter = try TinyAdapter.load(TinyAdapter.hf(model.config), config: model.config)
        let otherShape = try ModelWeights(file: GGUFFile(bytes: Self.tinyVariant(heads: 8, kvHeads: 4)))
        #expect(otherShape.config.headDim == 8 && otherShape.config.kvDim == model.config.kvDim)
        let transformer = Transformer(model: otherShape, maxBatch: 8)
        transformer.adapter = adapter
        let cache = KVCache(config: otherShape.config, capacity: 8)
        #expect(throws: InferenceError.self) { try transformer.evaluate([1, 2], cache: cache) }
        #expect(cache.count == 0)
        #expect(throws: InferenceError.self) { try otherShape.merging(adapter) }
        // Same configuration (another file): accepted.
        let same = Transformer(model: other, maxBatch: 8)
        same.adapter = adapter
        try same.evaluate([1, 2], cache: KVCache(config: other.config, capacity: 8))
    }

    /// The tiny model with `heads` query heads and `kvHeads` key/value heads: the same tensor shapes
    /// when heads / kvHeads keep dim and kvDim, but another head size.
    static func tinyVariant(heads: UInt32, kvHeads: UInt32) throws -> [UInt8] {
        try patch(patch(Tiny.file(), key: "llama.attention.head_count", to: heads), key: "llama.attention.head_count_kv", to: kvHeads)
    }

    /// `bytes` with the uint32 metadata value of `key` replaced (the key must be present exactly once).
    static func patch(_ bytes: [UInt8], key: String, to value: UInt32) throws -> [UInt8] {
        var record: [UInt8] = []   // length-prefixed key, then the uint32 type code
        withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian) { record.append(contentsOf: $0) }
        record += Array(key.utf8) + [4, 0, 0, 0]
        let starts = (0...(bytes.count - record.count)).filter { Array(bytes[$0..<($0 + record.count)]) == record }
        let start = try #require(starts.count == 1 ? starts.first : nil, "key \(key) found \(starts.count) times")
        var out = bytes
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { out[start + record.count + i] = byte }
        }
        return out
    }

    // MARK: GGUF adapters

    @Test("a GGUF adapter (as convert_lora_to_gguf.py writes it) loads to the same weights and logits as the PEFT directory")
    func ggufMatchesPEFT() throws {
        let (_, model) = try tinyModel()
        // One alpha for every module (the GGUF form cannot express alpha_pattern); ranks still vary.
        let hf = HFAdapter.random(config: model.config, seed: 21, rank: TinyAdapter.rank) { l, p in 8.0 / Double(TinyAdapter.rank(l, p)) }
        let dir = try TemporaryDirectory("gguf")
        defer { dir.cleanup() }
        try dir.write("adapter_config.json", text: """
            {"r": 4, "lora_alpha": 8, "rank_pattern": {"k_proj": 2, "layers.1.mlp.down_proj": 6}, "target_modules": "all-linear"}
            """)
        try dir.write("adapter_model.safetensors", hf.safetensors())
        let ggufPath = try dir.write("adapter.gguf", hf.gguf(config: model.config, alpha: 8))
        let fromPEFT = try LoRAAdapter.load(path: dir.path, config: model.config)
        let fromGGUF = try LoRAAdapter.load(path: ggufPath, config: model.config)
        for l in 0..<model.config.layers {
            for p in LoRAProjection.allCases {
                let a = try #require(fromPEFT.layers[l][p]), b = try #require(fromGGUF.layers[l][p])
                #expect(a.rank == b.rank && a.scale == b.scale, "layer \(l) \(p)")
                #expect(a.a == b.a && a.b == b.b, "layer \(l) \(p): matrices differ")
            }
        }
        let t1 = Transformer(model: model, maxBatch: 8), t2 = Transformer(model: model, maxBatch: 8)
        t1.adapter = fromPEFT
        t2.adapter = fromGGUF
        #expect(try Self.logits(t1, path: 2) == Self.logits(t2, path: 2))
    }

    @Test("GGUF adapter scale: alpha / rank, or 1 without alpha (llama.cpp's rule)")
    func ggufScale() throws {
        let (_, model) = try tinyModel()
        let hf = HFAdapter.random(config: model.config, projections: [.v, .down], seed: 3, rank: { _, _ in 4 }, scale: { _, _ in 1 })
        let noAlpha = try LoRAAdapter.loadGGUF(file: GGUFFile(bytes: hf.gguf(config: model.config, alpha: nil)), config: model.config)
        let alpha = try LoRAAdapter.loadGGUF(file: GGUFFile(bytes: hf.gguf(config: model.config, alpha: 6)), config: model.config)
        #expect(noAlpha.layers[0][.v]?.scale == 1)
        #expect(alpha.layers[1][.down]?.scale == 1.5)
        #expect(alpha.layers[0][.q] == nil)
        #expect(alpha.projections == [.v, .down])
    }

    @Test("GGUF adapters for another architecture, of another type, or with bad tensors are refused by name")
    func ggufRefusals() throws {
        let (_, model) = try tinyModel()
        let c = model.config
        let hf = HFAdapter.random(config: c, projections: [.q], seed: 9, rank: { _, _ in 2 }, scale: { _, _ in 1 })
        func load(_ bytes: [UInt8]) throws(AdapterError) -> LoRAAdapter {
            let file: GGUFFile
            do { file = try GGUFFile(bytes: bytes) } catch { throw .gguf(path: "t", error) }
            return try LoRAAdapter.loadGGUF(file: file, config: c, path: "t")
        }
        #expect(throws: AdapterError.architectureMismatch(path: "t", adapter: "qwen2", model: "llama")) {
            try load(hf.gguf(config: c, alpha: 4, architecture: "qwen2"))
        }
        var typed = hf.gguf(config: c, alpha: 4) { $0.addMetadata("general.type", .string("model")) }
        #expect(throws: AdapterError.metadata(path: "t", key: "general.type", reason: "is 'model', expected 'adapter'")) { try load(typed) }
        typed = hf.gguf(config: c, alpha: 4) { $0.addMetadata("adapter.type", .string("control_vector")) }
        #expect(throws: AdapterError.metadata(path: "t", key: "adapter.type", reason: "is 'control_vector', only 'lora' is supported")) {
            try load(typed)
        }
        let embedding = hf.gguf(config: c, alpha: 4) { w in
            w.addTensor(name: "token_embd.weight.lora_a", dims: [2, Tiny.vocab], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.vocab)))
            w.addTensor(name: "token_embd.weight.lora_b", dims: [Tiny.dim, 2], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.dim)))
        }
        #expect(throws: AdapterError.embeddingTarget(path: "t", module: "token_embd.weight")) { try load(embedding) }
        let farLayer = hf.gguf(config: c, alpha: 4) { w in
            w.addTensor(name: "blk.7.ffn_up.weight.lora_a", dims: [Tiny.dim, 2], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.dim)))
            w.addTensor(name: "blk.7.ffn_up.weight.lora_b", dims: [2, Tiny.ffn], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.ffn)))
        }
        #expect(throws: AdapterError.layerOutOfRange(path: "t", tensor: "blk.7.ffn_up.weight", layer: 7, layers: 2)) { try load(farLayer) }
        let lonely = hf.gguf(config: c, alpha: 4) { w in
            w.addTensor(name: "blk.0.ffn_up.weight.lora_a", dims: [Tiny.dim, 2], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.dim)))
        }
        #expect(throws: AdapterError.missingTensor(path: "t", tensor: "blk.0.ffn_up.weight.lora_b")) { try load(lonely) }
        let wrongWidth = hf.gguf(config: c, alpha: 4) { w in
            w.addTensor(name: "blk.0.ffn_up.weight.lora_a", dims: [Tiny.ffn, 2], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.ffn)))
            w.addTensor(name: "blk.0.ffn_up.weight.lora_b", dims: [2, Tiny.ffn], type: .f32, data: floatBytes(.init(repeating: 0, count: 2 * Tiny.ffn)))
        }
        #expect(throws: AdapterError.shape(path: "t", tensor: "blk.0.ffn_up.weight.lora_a", expected: [2, Tiny.dim], found: [2, Tiny.ffn])) {
            try load(wrongWidth)
        }
        let norm = hf.gguf(config: c, alpha: 4) { w in
            w.addTensor(name: "blk.0.attn_norm.weight", dims: [Tiny.dim], type: .f32, data: floatBytes(.init(repeating: 1, count: Tiny.dim)))
        }
        #expect(throws: AdapterError.unexpectedTensor(path: "t", tensor: "blk.0.attn_norm.weight", reason: "not a .lora_a or .lora_b tensor")) {
            try load(norm)
        }
    }

    @Test("an adapter passed to evaluate for one call = the same adapter set on the transformer; the property is left alone; requests alternate freely", arguments: 0..<4)
    func adapterPerCall(path: Int) throws {
        let (_, model) = try tinyModel()
        let first = try TinyAdapter.load(TinyAdapter.hf(model.config, seed: 11), config: model.config)
        let second = try TinyAdapter.load(TinyAdapter.hf(model.config, seed: 12), config: model.config)
        // References: one transformer per adapter, set as its property.
        func reference(_ adapter: LoRAAdapter?) throws -> [Float] {
            let transformer = Transformer(model: model, maxBatch: 8)
            transformer.adapter = adapter
            return try Self.logits(transformer, path: path)
        }
        let expected = [try reference(first), try reference(nil), try reference(second)]
        #expect(worstDifference(expected[0], expected[2]) > 0.05, "the two adapters must differ for this test to mean anything")
        // One shared transformer, its property set to `second`, evaluating under each adapter in turn.
        let shared = Transformer(model: model, maxBatch: 8)
        shared.adapter = second
        (shared.batchThreshold, shared.smallBatch, shared.tileRows) = TinyModelTests.paths[path]
        for _ in 0..<2 {
            for (adapter, want) in zip([first, nil, second] as [LoRAAdapter?], expected) {
                let cache = KVCache(config: model.config, capacity: 16)
                _ = try shared.evaluate(Self.tokens, cache: cache, adapter: adapter, shouldStop: nil)
                #expect(shared.logitsArray() == want, "per-call adapter differs from the property's")
            }
        }
        #expect(shared.adapter?.source == second.source, "evaluate(adapter:) changed the transformer's adapter")
    }

    @Test("an adapter for another model passed to evaluate is refused with the shapes, like one set as the property")
    func adapterPerCallMismatch() throws {
        let (_, model) = try tinyModel()
        let other = try ModelWeights(file: GGUFFile(path: TestPaths.requireModel()))   // SmolLM2: 30 layers, width 576
        let foreign = try TinyAdapter.load(TinyAdapter.hf(other.config), config: other.config)
        let transformer = Transformer(model: model, maxBatch: 8)
        do {
            _ = try transformer.evaluate([1, 2], cache: KVCache(config: model.config, capacity: 8), adapter: foreign, shouldStop: nil)
            Issue.record("a foreign adapter was accepted")
        } catch {
            guard case .adapterMismatch(let problem) = error else { Issue.record("wrong error \(error)"); return }
            #expect(problem.contains("30 layers") && problem.contains("this model is"), "\(problem)")
        }
    }
}
