// Every demo request, decoded on the real model under its catalogue's grammar, is a valid call.

import Foundation
import GGUF
import Inference
import JSON
import SchemaGrammar
import Testing
import TestSupport
import TokenMatcher
import Tokenizer
import ToolCalls
@testable import Router

@Suite("Demo requests under the catalogue grammars", .serialized)
struct CatalogueDecodingTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test("every demo request yields a call that parses and validates", arguments: ["support", "devops"])
    func demoRequests(name: String) throws {
        let file = try GGUFFile(path: TestPaths.requireModel())
        let model = try ModelWeights(file: file)
        let tokenizer = try BPETokenizer(gguf: file)
        let template = try ChatTemplate(gguf: file)
        let catalogue = try ToolCatalogue(contentsOf: Self.fixtures.appendingPathComponent("\(name).tools.json").path)
        let grammar = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        let decoder = ConstrainedDecoder(transformer: Transformer(model: model), tokenizer: tokenizer)
        let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("\(name).jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count >= 5)
        for line in lines {
            let request = try #require(try JSONParser.parse(String(line))["prompt"]?.stringValue)
            let ids = tokenizer.encode(PromptRenderer.render(catalogue: catalogue, input: request, template: template), parseSpecial: true)
            let cache = KVCache(config: model.config, capacity: ids.count + 201)
            let result = try decoder.decode(prompt: ids, grammar: grammar, maxTokens: 200, cache: cache, request: RequestSpans(request))
            let call = try ToolCall(parsing: result.text, catalogue: catalogue)
            #expect(catalogue.validate(call, origin: .request(request)).isEmpty, "\(request) → \(result.text)")
            print("\(name): \(request) → \(call.canonicalJSON)")
        }
    }
}
