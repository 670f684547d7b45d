// LoRA on the other families: PEFT's q/k rows are kept as trained (only llama's converter permutes them),
// and the low-rank terms go through the same linear helper where q is wider than the model (Qwen3: q 128, d 64).

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

@Suite struct LoRAFamiliesTests {
    static let tokens = [1, 17, 230, 45, 301, 5, 77, 150, 9, 400]

    @Test("Qwen2 and Qwen3 fixtures: q/k B rows as PEFT stores them; unmerged = merged on every engine path",
          arguments: ["qwen2-tiny.gguf", "qwen3-tiny.gguf"])
    func qwenAdapters(fixture: String) throws {
        let model = try ModelWeights(path: try TestModel.fixture(fixture).path)
        #expect(!model.config.traits.permutesQKRows)
        let hf = TinyAdapter.hf(model.config, seed: 23)
        let adapter = try TinyAdapter.load(hf, config: model.config)
        for module in hf.modules where module.projection == .q || module.projection == .k {
            let weights = try #require(adapter.layers[module.layer][module.projection])
            #expect(weights.b == module.b, "layer \(module.layer) \(module.projection): rows must stay in PEFT order")
        }
        let merged = Transformer(model: try model.merging(adapter), maxBatch: 8)
        let unmerged = Transformer(model: model, maxBatch: 8)
        let base = try LoRAEngineTests.logits(unmerged, path: 0, tokens: Self.tokens)
        unmerged.adapter = adapter
        for path in 0..<4 {
            let got = try LoRAEngineTests.logits(unmerged, path: path, tokens: Self.tokens)
            let want = try LoRAEngineTests.logits(merged, path: path, tokens: Self.tokens)
            #expect(worstDifference(got, want) < 1e-3, "path \(path): \(worstDifference(got, want))")
            #expect(worstDifference(got, base) > 0.01, "the adapter must change the logits")
        }
    }
}
