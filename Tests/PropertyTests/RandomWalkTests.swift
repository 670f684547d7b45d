// The acceptance property of constrained decoding: walks that take a uniformly random allowed token at
// every step, under random token budgets, always end in JSON that the independent validator accepts.

import Foundation
import GGUF
import JSON
import SchemaGrammar
import Testing
import TestSupport
import TokenMatcher
import Tokenizer
import ToolCalls

private enum Fixture {
    /// The real 49,152-token vocabulary: tokens end inside UTF-8 sequences, long tokens span JSON syntax.
    static let vocabulary: Result<TokenVocabulary, Error> = Result {
        let tokenizer = try BPETokenizer(gguf: GGUFFile(path: TestPaths.requireModel()))
        let tokens = (0..<tokenizer.vocabularySize).map { id -> [UInt8] in
            tokenizer.isControl(id) ? [] : ((try? tokenizer.tokenBytes(id)) ?? [])
        }
        return TokenVocabulary(tokens: tokens, endOfGeneration: tokenizer.endOfGenerationIDs)
    }
    static func catalogue(_ name: String) throws -> ToolCatalogue {
        try ToolCatalogue(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name).tools.json").path)
    }
}

/// One random walk: at each step a uniformly random token among those the grammar allows and that keep
/// the output completable in the tokens left; stops when the output is complete or an end token is drawn.
private func randomWalk(_ grammar: ByteGrammar, vocabulary: TokenVocabulary, budget: Int, rng: inout SeededRandom) -> (text: String, tokens: Int)? {
    let matcher = GrammarMatcher(grammar: grammar)
    var bytes: [UInt8] = []
    var used = 0
    var mask = TokenMask(count: 0)
    while !matcher.state.isComplete {
        let remaining = budget - used
        func acceptable(_ id: Int) -> Bool {
            if vocabulary.endOfGeneration.contains(id) { return matcher.isAccepting }
            let token = vocabulary.tokens[id]
            guard !token.isEmpty, let cost = matcher.completionCost(after: token) else { return false }
            return cost <= remaining - 1
        }
        // Rejection sampling is exactly uniform over the acceptable tokens; when they are rare, draw from the mask.
        var chosen: Int? = nil
        for _ in 0..<48 {
            let id = Int.random(in: 0..<vocabulary.count, using: &rng)
            if acceptable(id) { chosen = id; break }
        }
        if chosen == nil {
            matcher.allowedTokens(vocabulary, into: &mask)
            chosen = mask.allowedIDs.filter(acceptable).randomElement(using: &rng)
        }
        guard let id = chosen else { return nil }
        if vocabulary.endOfGeneration.contains(id) { break }
        guard matcher.accept(vocabulary.tokens[id]) else { return nil }
        bytes += vocabulary.tokens[id]
        used += 1
    }
    return (String(decoding: bytes, as: UTF8.self), used)
}

/// Walks `count` times over `schema`; records an issue for every output that does not parse or validate.
private func checkWalks(schema: JSONValue, label: String, count: Int, rng: inout SeededRandom) throws -> Int {
    let vocabulary = try Fixture.vocabulary.get()
    let grammar = try ByteGrammar(SchemaCompiler.compile(schema))
    let validator = try SchemaValidator(schema: schema)
    var checked = 0
    for _ in 0..<count {
        let budget = grammar.minimumLength + Int.random(in: 0...160, using: &rng)
        guard let (text, tokens) = randomWalk(grammar, vocabulary: vocabulary, budget: budget, rng: &rng) else {
            Issue.record("\(label): a walk reached a state with no acceptable token")
            continue
        }
        #expect(tokens <= budget)
        do {
            let value = try JSONParser.parse(text)
            let issues = validator.validate(value)
            #expect(issues.isEmpty, "\(label): \(text) fails validation: \(issues.map(\.message))")
        } catch {
            Issue.record("\(label): output is not JSON: \(text) (\(error))")
        }
        checked += 1
    }
    return checked
}

@Suite("Random walks end in valid JSON", .serialized)
struct RandomWalkTests {
    @Test("both demo catalogues: 300 walks each", arguments: ["support", "devops"])
    func catalogues(name: String) throws {
        var rng = SeededRandom(state: name == "support" ? 11 : 12)
        let schema = ToolCall.outputSchema(for: try Fixture.catalogue(name))
        let checked = try checkWalks(schema: schema, label: name, count: 300, rng: &rng)
        #expect(checked == 300)
    }

    @Test("220 random schemas over the supported keywords: 5 walks each")
    func randomSchemas() throws {
        var generator = RandomSchemas(seed: 2026)
        var rng = SeededRandom(state: 99)
        var checked = 0
        for index in 0..<220 {
            let schema = generator.schema()
            checked += try checkWalks(schema: schema, label: "schema \(index) \(JSONWriter.compact(schema))", count: 5, rng: &rng)
        }
        #expect(checked == 1100)
    }
}
