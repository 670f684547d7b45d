// LoRA on the real SmolLM2-135M Q4_1 model: a random small adapter applied unmerged must give the
// logits of the same adapter merged into float32 weights, through prefill and decode.

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

@Suite("LoRA on the default model", .serialized)
struct LoRARealModelTests {
    /// Rank-4 updates of every projection of every block; A and B uniform in ±0.05, scale 2.
    static func randomAdapter(_ c: ModelConfig, seed: UInt64) throws -> LoRAAdapter {
        var generator = SeededRandom(state: seed)
        let rank = 4
        let layers = try (0..<c.layers).map { _ in
            var layer = LoRALayer()
            for p in LoRAProjection.allCases {
                let (outputs, inputs) = p.shape(c)
                let a = (0..<(rank * inputs)).map { _ in Float.random(in: -0.05...0.05, using: &generator) }
                let b = (0..<(outputs * rank)).map { _ in Float.random(in: -0.05...0.05, using: &generator) }
                layer[p] = try LoRAWeights(rank: rank, inputs: inputs, outputs: outputs, a: a, b: b, scale: 2)
            }
            return layer
        }
        return try LoRAAdapter(config: c, layers: layers)
    }

    @Test("unmerged = merged on a ~20-token prompt and four decode steps; the adapter moves the logits")
    func unmergedMatchesMerged() throws {
        let loaded = try TestModel.load()
        let c = loaded.model.config
        let adapter = try Self.randomAdapter(c, seed: 2024)
        let prompt = loaded.tokenizer.encode(
            "<|im_start|>user\nPlease refund order ORD-55821 to the card it was paid with.<|im_end|>\n<|im_start|>assistant\n",
            parseSpecial: true)
        #expect((15...30).contains(prompt.count), "prompt has \(prompt.count) tokens")

        let unmerged = Transformer(model: loaded.model)
        unmerged.adapter = adapter
        let merged = Transformer(model: try loaded.model.merging(adapter))
        let base = Transformer(model: loaded.model)
        let stepwise = Transformer(model: loaded.model)       // the prompt on the decode path, adapter unmerged
        stepwise.adapter = adapter
        stepwise.batchThreshold = Int.max
        let transformers = [unmerged, merged, base, stepwise]
        let caches = transformers.map { _ in KVCache(config: c, capacity: prompt.count + 8) }

        var worstMerged: Float = 0, worstStepwise: Float = 0, smallestEffect = Float.infinity
        var next = prompt
        for step in 0..<5 {
            for (t, cache) in zip(transformers, caches) { try t.evaluate(next, cache: cache) }
            let logits = transformers.map { $0.logitsArray() }
            worstMerged = max(worstMerged, worstDifference(logits[0], logits[1]))
            worstStepwise = max(worstStepwise, worstDifference(logits[0], logits[3]))
            smallestEffect = min(smallestEffect, worstDifference(logits[0], logits[2]))
            #expect(Sampler.argmax(merged.logits, count: c.vocabularySize) == Sampler.argmax(unmerged.logits, count: c.vocabularySize),
                    "step \(step): merged and unmerged pick different tokens")
            next = [Sampler.argmax(unmerged.logits, count: c.vocabularySize)]
        }
        print("real model, random rank-4 adapter: unmerged vs merged worst \(worstMerged), prefill vs decode worst \(worstStepwise), "
              + "smallest effect on logits \(smallestEffect)")
        #expect(worstMerged < 2e-3, "unmerged vs merged: worst logit difference \(worstMerged)")
        #expect(worstStepwise < 2e-3, "prefill vs decode with the adapter: worst logit difference \(worstStepwise)")
        #expect(smallestEffect > 0.1, "the adapter moves the logits by only \(smallestEffect)")
    }

    @Test("a PEFT adapter for the real model loads with every shape checked, and one for the tiny model is refused")
    func realShapes() throws {
        let loaded = try TestModel.load()
        let c = loaded.model.config
        let hf = HFAdapter.random(config: c, projections: [.q, .k, .down], seed: 8, magnitude: 0.01, rank: { _, _ in 8 }, scale: { _, _ in 2 })
        let dir = try TemporaryDirectory("real")
        defer { dir.cleanup() }
        try dir.write("adapter_config.json", text: #"{"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "k_proj", "down_proj"]}"#)
        try dir.write("adapter_model.safetensors", hf.safetensors(dtype: .bf16))
        let adapter = try LoRAAdapter.load(path: dir.path, config: c)
        #expect(adapter.projections == [.q, .k, .down] && adapter.maxRank == 8)
        #expect(adapter.layers[29][.k]?.outputs == c.kvDim && adapter.layers[29][.down]?.inputs == c.ffnDim)
        let tinyConfig = try tinyModel().model.config
        #expect(throws: AdapterError.self) { try LoRAAdapter.load(path: dir.path, config: tinyConfig) }
    }
}
