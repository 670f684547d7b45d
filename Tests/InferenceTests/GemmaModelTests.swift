// The engine on the real Gemma 3 270M (base, Q4_K_M), against llama.cpp's greedy paths and an exact
// float64 reference (scripts/reference/gemma3_f64.py: numpy on the dequantised weights).

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

/// Gemma 3 270M, loaded once (installed by `scripts/setup --model gemma3-270m`).
enum GemmaModel {
    static func load() throws -> ModelWeights {
        _ = try TestPaths.requireGemmaModel()
        return try shared.get()
    }

    private static let shared: Result<ModelWeights, Error> = Result { try ModelWeights(path: TestPaths.gemmaModel) }

    /// `<eos>` and `<end_of_turn>`: where a greedy run stops.
    static let stopTokens: Set<Int> = [1, 106]
}

@Suite("Forward pass on Gemma 3 270M", .serialized)
struct GemmaModelTests {
    @Test("configuration: head size from key_length, sliding-window pattern and per-layer RoPE bases")
    func configuration() throws {
        let c = try GemmaModel.load().config
        #expect(c.architecture == "gemma3" && c.traits.rope == .halves && c.traits.activation == .geluTanh)
        #expect(c.layers == 18 && c.dim == 640 && c.ffnDim == 2048 && c.vocabularySize == 262_144)
        #expect(c.heads == 4 && c.kvHeads == 1 && c.headDim == 256 && c.qDim == 1024 && c.kvDim == 256)
        #expect(c.slidingWindow == 512 && abs(c.rmsEpsilon - 1e-6) < 1e-12)
        let global = (0..<18).filter { !c.isSlidingWindow(layer: $0) }
        #expect(global == [5, 11, 17])
        #expect(c.ropeBase(layer: 0) == 10_000 && c.ropeBase(layer: 5) == 1_000_000)
        let model = try GemmaModel.load()
        #expect(model.layers[0].qNorm?.count == 256 && model.layers[0].postFFNNorm?.count == 640)
        #expect(model.layers[0].bq == nil)
    }

    /// Greedy continuation of each reference prompt, with the first step's top ten.
    private func run(_ reference: GreedyReference, model: ModelWeights) throws -> GenerationResult {
        let transformer = Transformer(model: model)
        let generator = GreedyGenerator(transformer: transformer, stopTokens: GemmaModel.stopTokens)
        let cache = KVCache(config: model.config, capacity: reference.prompt_ids.count + 40)
        return try generator.generate(prompt: reference.prompt_ids, maxTokens: reference.greedy_ids.count, cache: cache)
    }

    @Test("against llama.cpp: the first 8 greedy ids are equal on ≥ 9 of 10 prompts")
    func llamaCppGreedy() throws {
        let model = try GemmaModel.load()
        let references = try TestModel.jsonLines("greedy-gemma3.jsonl", as: GreedyReference.self)
        #expect(references.count == 10)
        var matches = 0
        var worst = 0.0
        for (index, reference) in references.enumerated() {
            let result = try run(reference, model: model)
            for (got, want) in zip(result.firstStepTop, reference.first_step_top10) where got.id == want.id {
                worst = max(worst, abs(Double(got.logit) - want.logit))
            }
            if Array(result.ids.prefix(8)) == Array(reference.greedy_ids.prefix(8)) {
                matches += 1
            } else {
                print("prompt \(index): \(result.ids.prefix(8)) vs llama.cpp \(reference.greedy_ids.prefix(8))")
            }
        }
        print("llama.cpp reference: first 8 greedy ids equal on \(matches)/10; largest first-step logit difference \(worst)")
        #expect(matches >= 9)
    }

    @Test("against float64 math: top-10 logits within 0.1, greedy ids equal on ≥ 9 of 10 prompts")
    func float64Reference() throws {
        let model = try GemmaModel.load()
        let references = try TestModel.jsonLines("greedy-gemma3-f64.jsonl", as: GreedyReference.self)
        #expect(references.count == 10)
        var matches = 0
        var worst = 0.0
        for (index, reference) in references.enumerated() {
            let result = try run(reference, model: model)
            #expect(result.firstStepTop.map(\.id) == reference.first_step_top10.map(\.id), "prompt \(index): top-10 ids differ")
            for (got, want) in zip(result.firstStepTop, reference.first_step_top10) {
                worst = max(worst, abs(Double(got.logit) - want.logit))
                #expect(abs(Double(got.logit) - want.logit) <= 0.1, "prompt \(index) id \(want.id): \(got.logit) vs \(want.logit)")
            }
            if result.ids == reference.greedy_ids { matches += 1 } else {
                let step = zip(result.ids, reference.greedy_ids).prefix { $0 == $1 }.count
                print("prompt \(index): greedy ids diverge from float64 at step \(step)")
            }
        }
        print("float64 reference: greedy ids equal on \(matches)/10; worst first-step logit error \(worst)")
        #expect(matches >= 9)
    }

    /// 700 tokens: past the 512-token window, so the local layers' masks differ from the global ones'.
    @Test("a chunked prompt past the sliding window gives the logits of token-by-token decoding")
    func slidingWindowChunksMatchDecode() throws {
        let model = try GemmaModel.load()
        let references = try TestModel.jsonLines("greedy-gemma3.jsonl", as: GreedyReference.self)
        var ids = [2]
        while ids.count < 700 { ids += references[ids.count % references.count].prompt_ids.dropFirst() }
        ids = Array(ids.prefix(700))
        let chunked = Transformer(model: model, maxBatch: 128)   // several chunks, each after the window start moves
        let stepwise = Transformer(model: model)
        stepwise.batchThreshold = Int.max
        let a = KVCache(config: model.config, capacity: 700), b = KVCache(config: model.config, capacity: 700)
        try chunked.evaluate(ids, cache: a)
        try stepwise.evaluate(ids, cache: b)
        let x = chunked.logitsArray(), y = stepwise.logitsArray()
        let worst = zip(x, y).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 2e-2, "largest logit difference \(worst)")
        #expect(Sampler.argmax(chunked.logits, count: x.count) == Sampler.argmax(stepwise.logits, count: y.count))
        #expect(a.count == 700 && b.count == 700)
    }
}
