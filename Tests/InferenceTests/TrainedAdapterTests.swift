// The committed support adapter (adapters/support, PEFT, trained in training/) on the real model, against
// logits computed independently by torch + PEFT in float64 (training/reference_logits.py). This is the check
// that the PEFT → GGUF name mapping, the q/k lora_B row permutation and the scaling are right for an adapter
// that was really trained, not only for random ones.

import Foundation
import Testing
import TestSupport
@testable import Inference

@Suite("The trained support adapter vs torch", .serialized)
struct TrainedAdapterTests {
    /// One of training/reference/{base,support-adapter}-logits.json (copied into Fixtures/).
    struct Reference: Decodable {
        struct Row: Decodable {
            let prompt_ids: [Int]
            /// `[token id, logit]`, the 20 largest first-step logits, largest first.
            let top: [[Double]]
        }
        let adapter: String?
        let rows: [Row]
    }

    static func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TestModel.fixture(name)))
    }

    /// Largest |engine - reference| over the reference's top ids.
    static func worstError(_ logits: [Float], _ row: Reference.Row) -> Double {
        row.top.map { abs(Double(logits[Int($0[0])]) - $0[1]) }.max() ?? .infinity
    }

    @Test("unmerged and merged, the engine's first-step logits match torch within 0.002 on 4 prompts; the adapter moves them by far more")
    func matchesTorch() throws {
        let loaded = try TestModel.load()
        let config = loaded.model.config
        let base = try Self.reference("base-logits.json")
        let tuned = try Self.reference("support-adapter-logits.json")
        #expect(base.rows.count == 4 && tuned.rows.count == 4)
        let adapterPath = TestPaths.packageRoot.appendingPathComponent("adapters/support").path
        let adapter = try LoRAAdapter.load(path: adapterPath, config: config)

        let plain = Transformer(model: loaded.model)
        let unmerged = Transformer(model: loaded.model)
        unmerged.adapter = adapter
        let merged = Transformer(model: try loaded.model.merging(adapter))

        var worstBase = 0.0, worstUnmerged = 0.0, worstMerged = 0.0, smallestEffect = Double.infinity
        for (index, (b, t)) in zip(base.rows, tuned.rows).enumerated() {
            #expect(b.prompt_ids == t.prompt_ids, "prompt \(index): the two reference files disagree on the ids")
            var logits: [[Float]] = []
            for transformer in [plain, unmerged, merged] {
                let cache = KVCache(config: config, capacity: t.prompt_ids.count + 1)
                try transformer.evaluate(t.prompt_ids, cache: cache)
                logits.append(transformer.logitsArray())
            }
            worstBase = max(worstBase, Self.worstError(logits[0], b))
            worstUnmerged = max(worstUnmerged, Self.worstError(logits[1], t))
            worstMerged = max(worstMerged, Self.worstError(logits[2], t))
            // How far the trained adapter moves the reference's top logits away from the base model's.
            smallestEffect = min(smallestEffect, Self.worstError(logits[0], t))
            let wantTop = Int(t.top[0][0])
            #expect(Sampler.argmax(logits[1], count: config.vocabularySize) == wantTop, "prompt \(index): unmerged top-1 differs from torch")
            #expect(Sampler.argmax(logits[2], count: config.vocabularySize) == wantTop, "prompt \(index): merged top-1 differs from torch")
        }
        print("trained support adapter vs torch float64: base worst \(worstBase), unmerged worst \(worstUnmerged), "
              + "merged worst \(worstMerged); the adapter moves the top logits by at least \(smallestEffect)")
        #expect(worstBase <= 2e-3, "base model vs torch: worst logit error \(worstBase)")
        #expect(worstUnmerged <= 2e-3, "unmerged adapter vs torch: worst logit error \(worstUnmerged)")
        #expect(worstMerged <= 2e-3, "merged adapter vs torch: worst logit error \(worstMerged)")
        #expect(smallestEffect >= 1.0, "the adapter should move the logits far more than the tolerance; it moves them by \(smallestEffect)")
    }
}
