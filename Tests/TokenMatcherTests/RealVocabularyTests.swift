// Masks over the real 49,152-token SmolLM2 vocabulary.

import Foundation
import GGUF
import Grammar
import Testing
import TestSupport
import Tokenizer
@testable import TokenMatcher

enum RealVocabulary {
    /// The model's vocabulary as the matcher sees it (control tokens have no bytes).
    static func load() throws -> TokenVocabulary {
        let tokenizer = try BPETokenizer(gguf: GGUFFile(path: TestPaths.requireModel()))
        let tokens = (0..<tokenizer.vocabularySize).map { id -> [UInt8] in
            tokenizer.isControl(id) ? [] : ((try? tokenizer.tokenBytes(id)) ?? [])
        }
        return TokenVocabulary(tokens: tokens, endOfGeneration: tokenizer.endOfGenerationIDs)
    }
}

@Suite("Masks on the real vocabulary", .serialized)
struct RealVocabularyTests {
    @Test("trie mask equals brute force over all 49,152 tokens at sampled states")
    func bruteForce() throws {
        let vocabulary = try RealVocabulary.load()
        let char = GrammarExpr.choice([.charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0...0x1F], negated: true)),
                                       .sequence([.literal("\\"), .charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0x6E...0x6E]))])])
        let digits = GrammarExpr.repeat(.charClass(CharClass(ranges: [0x30...0x39])), min: 1, max: 6)
        let root = GrammarExpr.sequence([.literal("{\"tool\":\"track_order\",\"arguments\":{\"order_id\":\""), .repeat(char, min: 1, max: 40),
                                         .literal("\",\"count\":"), digits, .literal("}}")])
        let grammar = try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: root)]))
        let prepared = try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: root)]))
        #expect(prepared.prepareMasks(for: vocabulary) > 0)
        let text = "{\"tool\":\"track_order\",\"arguments\":{\"order_id\":\"ORD-5 é\\\"\",\"count\":12}}"
        var mask = TokenMask(count: 0)
        var checked = 0
        for (pass, g) in [("cold cache", grammar), ("warm cache", grammar), ("prepared at load", prepared)] {
            let matcher = GrammarMatcher(grammar: g)
            for (i, byte) in Array(text.utf8).enumerated() {
                if i % 7 == 0 || i > text.utf8.count - 6 || (49...53).contains(i) {
                    let start = Date()
                    matcher.allowedTokens(vocabulary, into: &mask)
                    let elapsed = Date().timeIntervalSince(start)
                    let brute = (0..<vocabulary.count).filter { matcher.allows(token: $0, in: vocabulary) }
                    #expect(mask.allowedIDs == brute, "\(pass): state after \(i) bytes")
                    print("\(pass): mask after \(i) bytes: \(mask.allowedCount) allowed, \(Int(elapsed * 1e6)) µs")
                    checked += 1
                }
                #expect(matcher.accept([byte]))
            }
            #expect(matcher.isAccepting)
        }
        #expect(checked > 24)
    }
}
