// The restricted output head: when the grammar allows few tokens, only their logits are computed. The
// answers must be exactly those of the whole head, on both model families, for real catalogue grammars.

import Foundation
import SchemaGrammar
import GGUF
@testable import Inference
import Testing
import TestSupport
import TokenMatcher
import Tokenizer
import ToolCalls
@testable import Router

@Suite("Restricted output head", .serialized)
struct RestrictedHeadTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let requests = ["Where is my order ORD-55821?", "Refund order ORD-1234, it arrived broken.", "I am furious, get me a manager NOW",
                           "Restart the billing service.", "What's the weather like?", "Show me the last 20 error lines of auth-api"]

    @Test("whole head, restricted when few tokens are allowed, restricted always: the same tokens, on SmolLM2 and Gemma 3",
          arguments: ["smollm2", "gemma3"])
    func sameAnswers(family: String) throws {
        let path = family == "gemma3" ? try TestPaths.requireGemmaModel() : try TestPaths.requireModel()
        let file = try GGUFFile(path: path)
        let model = try ModelWeights(file: file)
        let tokenizer = try BPETokenizer(gguf: file)
        let template: ChatTemplate = family == "gemma3" ? .gemma : try ChatTemplate(gguf: file)
        let decoder = ConstrainedDecoder(transformer: Transformer(model: model), tokenizer: tokenizer)
        let vocabularySize = model.config.vocabularySize
        var restrictedSteps = 0, sampledSteps = 0
        for name in ["support", "devops"] {
            let catalogue = try ToolCatalogue(contentsOf: Self.fixtures.appendingPathComponent("\(name).tools.json").path)
            let grammar = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
            for request in Self.requests {
                let ids = PromptRenderer.encode(catalogue: catalogue, input: request, template: template, tokenizer: tokenizer)
                var answers: [ConstrainedResult] = []
                for limit in [0, vocabularySize / 2, vocabularySize] {
                    decoder.restrictedHeadLimit = limit
                    let cache = KVCache(config: model.config, capacity: ids.count + 64)
                    answers.append(try decoder.decode(prompt: ids, grammar: grammar, maxTokens: 48, cache: cache, request: grammar.hasRequestSpans ? RequestSpans(request) : nil))
                }
                #expect(answers[0].restrictedHeadSteps == 0)
                #expect(answers[2].restrictedHeadSteps == answers[2].sampledTokens)
                #expect(answers[1].ids == answers[0].ids && answers[2].ids == answers[0].ids, "\(family) \(name): \(request)")
                restrictedSteps += answers[1].restrictedHeadSteps
                sampledSteps += answers[1].sampledTokens
            }
        }
        // Tool names, argument keys and request spans leave few tokens: most steps are restricted.
        #expect(restrictedSteps * 2 > sampledSteps, "\(restrictedSteps) of \(sampledSteps)")
        print("\(family): \(restrictedSteps) of \(sampledSteps) sampled steps computed only the allowed tokens' logits")
    }
}
