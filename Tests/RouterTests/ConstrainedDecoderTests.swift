// Constrained greedy decoding on the real model with a hand-built tool-call grammar.

import Foundation
import GGUF
import Grammar
import Inference
import Testing
import TestSupport
import TokenMatcher
import Tokenizer
@testable import Router

private enum Model {
    static let loaded: Result<(ModelWeights, BPETokenizer), Error> = Result {
        let file = try GGUFFile(path: TestPaths.requireModel())
        return (try ModelWeights(file: file), try BPETokenizer(gguf: file))
    }
}

/// {"tool":"track_order","arguments":{"order_id":"ORD-<digits>"}} | {"tool":"escalate","arguments":{"reason":"<text>"}} | {"tool":"no_tool","reason":"<text>"}
private let toolGrammar: Grammar = {
    let char = GrammarExpr.choice([.charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0...0x1F], negated: true)),
                                   .sequence([.literal("\\"), .charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0x6E...0x6E]))])])
    let text = GrammarExpr.sequence([.literal("\""), .repeat(char, min: 1, max: 60), .literal("\"")])
    let root = GrammarExpr.choice([
        .sequence([.literal("{\"tool\":\"track_order\",\"arguments\":{\"order_id\":\"ORD-"), .repeat(.charClass(CharClass(ranges: [0x30...0x39])), min: 1, max: 8), .literal("\"}}")]),
        .sequence([.literal("{\"tool\":\"escalate\",\"arguments\":{\"reason\":"), .ruleRef("text"), .literal("}}")]),
        .sequence([.literal("{\"tool\":\"no_tool\",\"reason\":"), .ruleRef("text"), .literal("}")]),
    ])
    return Grammar(rules: [GrammarRule(name: "root", body: root), GrammarRule(name: "text", body: text)])
}()

private func prompt(_ tokenizer: BPETokenizer, _ request: String) -> [Int] {
    let system = "You route requests to tools. Reply with one JSON object. Tools: track_order(order_id), escalate(reason)."
    return tokenizer.encode("<|im_start|>system\n\(system)<|im_end|>\n<|im_start|>user\n\(request)<|im_end|>\n<|im_start|>assistant\n", parseSpecial: true)
}

@Suite("Constrained decoding on the default model", .serialized)
struct ConstrainedDecoderTests {
    @Test("every output matches the grammar, with jump-forward and the greedy fast path",
          arguments: ["Where is my order ORD-55821?", "I am furious, get me a manager.", "Hello there!", "Track ORD-77340012 please"])
    func outputsMatch(request: String) throws {
        let (model, tokenizer) = try Model.loaded.get()
        let decoder = ConstrainedDecoder(transformer: Transformer(model: model), tokenizer: tokenizer)
        let grammar = try ByteGrammar(toolGrammar)
        let ids = prompt(tokenizer, request)
        let cache = KVCache(config: model.config, capacity: ids.count + 128)
        let result = try decoder.decode(prompt: ids, grammar: grammar, maxTokens: 100, cache: cache)
        let check = GrammarMatcher(grammar: grammar)
        #expect(check.accept(Array(result.text.utf8)) && check.isAccepting, "\(result.text)")
        #expect(result.forcedTokens > 0)
        #expect(result.sampledTokens + result.forcedTokens == result.ids.count)
        #expect((try tokenizer.decode(result.ids)) == Array(result.text.utf8))
        print("\(request) → \(result.text) [sampled \(result.sampledTokens), forced \(result.forcedTokens), first-candidate \(result.firstCandidateHits), full masks \(result.fullMaskSteps)]")
    }

    @Test("a budget too small for any complete output is refused up front")
    func budgetTooSmall() throws {
        let (model, tokenizer) = try Model.loaded.get()
        let decoder = ConstrainedDecoder(transformer: Transformer(model: model), tokenizer: tokenizer)
        let ids = prompt(tokenizer, "Where is my order ORD-55821?")
        let cache = KVCache(config: model.config, capacity: ids.count + 16)
        let grammar = try ByteGrammar(toolGrammar)
        #expect(grammar.minimumLength == "{\"tool\":\"no_tool\",\"reason\":\"x\"}".utf8.count)
        #expect(throws: ConstrainedDecodingError.budgetTooSmall(budget: 3, shortestOutputBytes: grammar.minimumLength)) {
            try decoder.decode(prompt: ids, grammar: grammar, maxTokens: 3, cache: cache)
        }
    }

    /// A free-text string the model would happily make long, under budgets far below its natural
    /// length: the output must still close its string (steering), within the budget.
    @Test("tight budgets steer to a complete output", arguments: [2, 3, 8, 20])
    func budgetSteering(budget: Int) throws {
        let (model, tokenizer) = try Model.loaded.get()
        let decoder = ConstrainedDecoder(transformer: Transformer(model: model), tokenizer: tokenizer)
        let char = GrammarExpr.charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0...0x1F], negated: true))
        let grammar = try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: .sequence([.literal("\""), .repeat(char, min: 0, max: 400), .literal("\"")]))]))
        let ids = prompt(tokenizer, "Write a very long story about a lighthouse keeper, as one quoted string.")
        let cache = KVCache(config: model.config, capacity: ids.count + budget + 4)
        let result = try decoder.decode(prompt: ids, grammar: grammar, maxTokens: budget, cache: cache)
        let check = GrammarMatcher(grammar: grammar)
        #expect(check.accept(Array(result.text.utf8)) && check.isAccepting, "\(result.text)")
        #expect(result.ids.count <= budget)
        print("budget \(budget): \(result.ids.count) tokens → \(result.text)")
    }
}
