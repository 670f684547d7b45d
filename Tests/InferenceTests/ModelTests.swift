// The engine on the real SmolLM2-135M Q4_1 model, against exact float64 math.

import Foundation
import GGUF
import Testing
import Tokenizer
@testable import Inference

@Suite("Forward pass on the default model", .serialized)
struct ModelTests {
    @Test("configuration comes from GGUF metadata")
    func configuration() throws {
        let c = try TestModel.load().model.config
        #expect(c.layers == 30 && c.dim == 576 && c.ffnDim == 1536)
        #expect(c.heads == 9 && c.kvHeads == 3 && c.headDim == 64 && c.ropeDims == 64)
        #expect(c.ropeBase == 100000 && abs(c.rmsEpsilon - 1e-5) < 1e-12 && c.vocabularySize == 49152)
        #expect(try TestModel.load().file.tensor(named: "output.weight") == nil)   // tied output head
    }

    /// The acceptance bar: against exact float64 math on the dequantised weights, the first step's
    /// top-10 ids are equal with every logit within 0.1, and greedy ids are equal for at least 9 of 10.
    @Test("matches the float64 reference: top-10 logits within 0.1, greedy ids for ≥ 9 of 10 prompts")
    func float64Reference() throws {
        let loaded = try TestModel.load()
        let references = try TestModel.jsonLines("greedy-smollm2-f64.jsonl", as: GreedyReference.self)
        #expect(references.count == 10)
        let transformer = Transformer(model: loaded.model)
        let generator = GreedyGenerator(transformer: transformer, stopTokens: loaded.tokenizer.endOfGenerationIDs)
        var greedyMatches = 0
        var worstLogitError = 0.0
        for (index, reference) in references.enumerated() {
            let promptIDs = loaded.tokenizer.encode(reference.prompt, parseSpecial: true)
            #expect(promptIDs == reference.prompt_ids, "prompt \(index): token ids differ")
            let cache = KVCache(config: loaded.model.config, capacity: promptIDs.count + 40)
            let result = try generator.generate(prompt: promptIDs, maxTokens: reference.greedy_ids.count, cache: cache)
            #expect(result.firstStepTop.map(\.id) == reference.first_step_top10.map(\.id), "prompt \(index): top-10 ids differ")
            for (got, want) in zip(result.firstStepTop, reference.first_step_top10) {
                worstLogitError = max(worstLogitError, abs(Double(got.logit) - want.logit))
                #expect(abs(Double(got.logit) - want.logit) <= 0.1, "prompt \(index) id \(want.id): \(got.logit) vs \(want.logit)")
            }
            if result.ids == reference.greedy_ids {
                greedyMatches += 1
            } else {
                let step = zip(result.ids, reference.greedy_ids).prefix { $0 == $1 }.count
                let gap = reference.top2_gaps.flatMap { step < $0.count ? $0[step] : nil } ?? .nan
                print("prompt \(index): greedy ids diverge at step \(step) (reference top-2 gap there: \(gap))")
            }
        }
        print("float64 reference: greedy ids equal for \(greedyMatches)/10 prompts; worst first-step logit error \(worstLogitError)")
        #expect(greedyMatches >= 9)
    }

    @Test("prefill (sgemm) and token-by-token decode give the same logits")
    func prefillMatchesDecode() throws {
        let loaded = try TestModel.load()
        let ids = loaded.tokenizer.encode("<|im_start|>user\nThe quick brown fox jumps over the lazy dog, twice.<|im_end|>\n", parseSpecial: true)
        let batched = Transformer(model: loaded.model)
        let stepwise = Transformer(model: loaded.model)
        stepwise.batchThreshold = Int.max
        let cacheA = KVCache(config: loaded.model.config, capacity: 64), cacheB = KVCache(config: loaded.model.config, capacity: 64)
        try batched.evaluate(ids, cache: cacheA)
        try stepwise.evaluate(ids, cache: cacheB)
        let a = batched.logitsArray(), b = stepwise.logitsArray()
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 2e-3, "worst logit difference \(worst)")
        #expect(cacheA.count == ids.count && cacheB.count == ids.count)
    }

    @Test("a prompt split into chunks gives the same logits as one batch")
    func chunkedPrefill() throws {
        let loaded = try TestModel.load()
        let ids = loaded.tokenizer.encode(String(repeating: "Order ORD-55821 was refunded to the customer. ", count: 6), parseSpecial: true)
        let whole = Transformer(model: loaded.model, maxBatch: 512), chunked = Transformer(model: loaded.model, maxBatch: 16)
        let cacheA = KVCache(config: loaded.model.config, capacity: 128), cacheB = KVCache(config: loaded.model.config, capacity: 128)
        try whole.evaluate(ids, cache: cacheA)
        try chunked.evaluate(Array(ids.prefix(7)), cache: cacheB)      // a short head on the decode path,
        try chunked.evaluate(Array(ids.dropFirst(7)), cache: cacheB)   // then chunks of 16 on the prefill path
        let worst = zip(whole.logitsArray(), chunked.logitsArray()).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 2e-3, "worst logit difference \(worst)")
    }

    @Test("KV cache overflow is an error and leaves the cache usable")
    func overflow() throws {
        let loaded = try TestModel.load()
        let transformer = Transformer(model: loaded.model)
        let cache = KVCache(config: loaded.model.config, capacity: 8)
        try transformer.evaluate([1, 9690, 198, 2683], cache: cache)
        #expect(throws: InferenceError.contextOverflow(needed: 10, capacity: 8)) {
            try transformer.evaluate([359, 253, 5356, 5646, 11173, 3365], cache: cache)
        }
        #expect(cache.count == 4)
        try transformer.evaluate([359, 253], cache: cache)
        #expect(cache.count == 6)
    }

    @Test("bad token ids and empty input are errors, not crashes")
    func badTokens() throws {
        let loaded = try TestModel.load()
        let transformer = Transformer(model: loaded.model)
        let cache = KVCache(config: loaded.model.config, capacity: 8)
        #expect(throws: InferenceError.tokenOutOfRange(id: 49152, vocabularySize: 49152)) { try transformer.evaluate([1, 49152], cache: cache) }
        #expect(throws: InferenceError.tokenOutOfRange(id: -1, vocabularySize: 49152)) { try transformer.evaluate([-1], cache: cache) }
        #expect(throws: InferenceError.emptyInput) { try transformer.evaluate([], cache: cache) }
        #expect(cache.count == 0)
    }
}
