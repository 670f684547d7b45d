// `computeLogits(only:)` computes chosen rows of the output head exactly as the whole head does.

import Testing
import TestSupport
@testable import Inference

@Suite struct HeadRowsTests {
    @Test("a subset of head rows: bit-equal to the whole head's values; rows not asked for are untouched")
    func subsetRowsAreExact() throws {
        let loaded = try TestModel.load()
        let transformer = Transformer(model: loaded.model)
        let ids = loaded.tokenizer.encode("The capital of France is", parseSpecial: false)
        let cache = KVCache(config: loaded.model.config, capacity: 64)
        try transformer.evaluate(ids, cache: cache)
        let full = transformer.logitsArray()
        let vocabularySize = loaded.model.config.vocabularySize
        // Few rows (one lane) and many rows (all lanes), unsorted, with the top token among them.
        var generator = SeededRandom(state: 7)
        let top = Sampler.argmax(transformer.logits, count: vocabularySize)
        for count in [5, 3000] {
            var subset = Set<Int>([top])
            while subset.count < count { subset.insert(Int(generator.next() % UInt64(vocabularySize))) }
            for i in 0..<vocabularySize { transformer.logits[i] = .nan }
            transformer.computeLogits(only: Array(subset).shuffled(using: &generator))
            for id in subset { #expect(transformer.logits[id].bitPattern == full[id].bitPattern) }
            #expect((0..<vocabularySize).filter { !subset.contains($0) }.allSatisfy { transformer.logits[$0].isNaN })
        }
        // After a further token, the head input is the new token's.
        _ = try transformer.evaluate([top], cache: cache, shouldStop: nil, computeLogits: false)
        transformer.computeLogits(only: [top])
        let partial = transformer.logits[top]
        transformer.computeLogits(only: nil)
        #expect(partial.bitPattern == transformer.logits[top].bitPattern && partial != full[top])
    }
}
