// Qwen2 and Qwen3 on small random-weight GGUFs (scripts/reference/make_qwen_fixtures.py), against the
// logits llama.cpp computed for them at every position, and against llama.cpp's tokenizations
// (the `qwen2` pre-tokenizer over a small byte-level vocabulary).

import Foundation
import GGUF
import Testing
import Tokenizer
@testable import Inference

/// `qwen-tiny-reference.json`, the parts the tests read.
private struct QwenReference: Decodable {
    struct Sequence: Decodable { let ids: [Int]; let logits: [[Double]] }
    struct Model: Decodable { let arch: String; let file: String; let sequences: [Sequence] }
    struct Tokenization: Decodable { let text: String; let parse_special: Bool; let ids: [Int] }
    let models: [String: Model]
    let tokenizations: [Tokenization]

    static func load() throws -> QwenReference {
        try JSONDecoder().decode(QwenReference.self, from: Data(contentsOf: TestModel.fixture("qwen-tiny-reference.json")))
    }
}

@Suite("Qwen2 and Qwen3 fixtures against llama.cpp")
struct QwenFixtureTests {
    /// Every position's logits, decoding token by token; and the last position's from one chunk.
    private func largestDifference(_ name: String) throws -> (stepwise: Double, chunked: Double, argmaxEqual: Bool) {
        let reference = try QwenReference.load()
        guard let entry = reference.models[name] else { throw TestFailure("no model \(name) in the fixture") }
        let model = try ModelWeights(path: try TestModel.fixture(entry.file).path)
        #expect(model.config.architecture == entry.arch)
        var stepwise = 0.0, chunked = 0.0, argmaxEqual = true
        for sequence in entry.sequences {
            let transformer = Transformer(model: model)
            let cache = KVCache(config: model.config, capacity: sequence.ids.count)
            for (position, id) in sequence.ids.enumerated() {
                try transformer.evaluate([id], cache: cache)
                let got = transformer.logitsArray(), want = sequence.logits[position]
                stepwise = max(stepwise, zip(got, want).map { abs(Double($0) - $1) }.max() ?? .infinity)
                let wantTop = want.indices.max { want[$0] < want[$1] } ?? -1
                argmaxEqual = argmaxEqual && Sampler.argmax(transformer.logits, count: got.count) == wantTop
            }
            let whole = Transformer(model: model)
            try whole.evaluate(sequence.ids, cache: KVCache(config: model.config, capacity: sequence.ids.count))
            chunked = max(chunked, zip(whole.logitsArray(), sequence.logits.last ?? []).map { abs(Double($0) - $1) }.max() ?? .infinity)
        }
        return (stepwise, chunked, argmaxEqual)
    }

    @Test("F32 fixtures (qwen2: q/k/v biases; qwen3: q/k norms, head size ≠ width/heads): logits within 1e-3",
          arguments: ["qwen2-tiny", "qwen3-tiny"])
    func float32Fixtures(name: String) throws {
        let (stepwise, chunked, argmaxEqual) = try largestDifference(name)
        print("\(name): largest logit difference \(stepwise) token by token, \(chunked) chunked")
        #expect(stepwise < 1e-3 && chunked < 1e-3)
        #expect(argmaxEqual)
    }

    /// llama.cpp rounds activations to 8 bits for Q8_0 weights (0.047 from float64 on this fixture);
    /// the engine keeps them float32, so this bound is looser.
    @Test("qwen2 Q8_0: logits within 0.1 of llama.cpp's")
    func q8Fixture() throws {
        let (stepwise, chunked, _) = try largestDifference("qwen2-tiny-q8_0")
        print("qwen2-tiny-q8_0: largest logit difference \(stepwise) token by token, \(chunked) chunked")
        #expect(stepwise < 0.1 && chunked < 0.1)
    }

    @Test("the qwen2 pre-tokenizer and byte-level merges give llama.cpp's ids")
    func tokenizations() throws {
        let reference = try QwenReference.load()
        let tokenizer = try BPETokenizer(gguf: GGUFFile(path: TestModel.fixture("qwen2-tiny.gguf").path))
        for line in reference.tokenizations {
            #expect(tokenizer.encode(line.text, parseSpecial: line.parse_special) == line.ids, "\(line.text.debugDescription)")
        }
    }
}

private struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
