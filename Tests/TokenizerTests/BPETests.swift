import Testing
@testable import Tokenizer

/// BPE merging, special-token matching and loading, on small hand-made vocabularies.
@Suite struct BPETests {
    /// A vocabulary of single letters, "Ġ", a few merges, and the given special tokens.
    private func tiny(
        merges: [String], extra: [String] = [], special: [(String, TokenType)] = [], addBOS: Bool = false
    ) throws -> BPETokenizer {
        let base = ["a", "b", "c", "Ġ", "<", ">", "|", "x", "y"]
        let tokens = base + extra + special.map(\.0)
        let types = Array(repeating: TokenType.normal.rawValue, count: base.count + extra.count) + special.map(\.1.rawValue)
        return try BPETokenizer(
            tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: .gpt2,
            special: SpecialTokens(bos: tokens.count - 1, eos: tokens.count - 1, addBOS: addBOS))
    }

    private func texts(_ ids: [Int], _ tokenizer: BPETokenizer) throws -> [String] {
        try ids.map { id throws(TokenizerError) in try tokenizer.tokenText(id) }
    }

    @Test func lowestRankMergesFirst() throws {
        let tokenizer = try tiny(merges: ["b c", "a b", "a bc"], extra: ["bc", "ab", "abc"])
        #expect(try texts(tokenizer.encode("abc", parseSpecial: false), tokenizer) == ["abc"])
        let other = try tiny(merges: ["a b", "b c", "a bc"], extra: ["ab", "bc", "abc"])
        #expect(try texts(other.encode("abc", parseSpecial: false), other) == ["ab", "c"])
    }

    @Test func equalRanksMergeLeftmostFirst() throws {
        let tokenizer = try tiny(merges: ["a a"], extra: ["aa"])
        #expect(try texts(tokenizer.encode("aaa", parseSpecial: false), tokenizer) == ["aa", "a"])
        #expect(try texts(tokenizer.encode("aaaa", parseSpecial: false), tokenizer) == ["aa", "aa"])
    }

    @Test func wordsAreMergedSeparately() throws {
        let tokenizer = try tiny(merges: ["Ġ a", "a b"], extra: ["Ġa", "ab"])
        #expect(try texts(tokenizer.encode("ab ab", parseSpecial: false), tokenizer) == ["ab", "Ġa", "b"])
    }

    @Test func mergeResultMissingFromVocabularyFallsBackToBytes() throws {
        // "ab" is reachable by a merge but is not a token.
        let tokenizer = try tiny(merges: ["a b"])
        #expect(try texts(tokenizer.encode("ab", parseSpecial: false), tokenizer) == ["a", "b"])
    }

    @Test func duplicateStringsResolveToTheLaterIDEvenAfterTheTableGrows() throws {
        // 40 chained merges whose results are not tokens: 40 virtual pieces force the interner to grow.
        let chain = (1...40).map { String(repeating: "a", count: $0) + " a" }
        let tokenizer = try tiny(merges: chain, extra: ["a"])  // "a" again, as id 9
        #expect(tokenizer.virtualPieceCount == 247 + 40)  // 256 - 9 single bytes, plus the chain
        #expect(tokenizer.encode("a", parseSpecial: false) == [9])
        #expect(tokenizer.encode(String(repeating: "a", count: 41), parseSpecial: false) == Array(repeating: 9, count: 41))
    }

    @Test func controlTokensNeedParseSpecialButUserDefinedOnesDoNot() throws {
        let tokenizer = try tiny(merges: [], special: [("<|x|>", .control), ("yy", .userDefined)])
        let control = 9, user = 10
        #expect(tokenizer.encode("a<|x|>b", parseSpecial: true) == [0, control, 1])
        #expect(tokenizer.encode("a<|x|>b", parseSpecial: false) == [0, 4, 6, 7, 6, 5, 1])
        #expect(tokenizer.encode("ayyb", parseSpecial: false) == [0, user, 1])
        #expect(tokenizer.encode("<|x|><|x|>", parseSpecial: true) == [control, control])
    }

    @Test func longerSpecialTokensAreCutOutFirst() throws {
        // As in llama.cpp: "yxyy" (longest) is cut out before "xy", even where "xy" starts earlier.
        let tokenizer = try tiny(merges: [], special: [("xy", .control), ("yxyy", .control)])
        let short = 9, long = 10
        #expect(tokenizer.encode("xyxyy", parseSpecial: true) == [7, long])
        #expect(tokenizer.encode("xy-yxyy", parseSpecial: true).first == short)
    }

    @Test func bosIsAddedOnlyWhenTheModelAsksForIt() throws {
        let with = try tiny(merges: [], special: [("<s>", .control)], addBOS: true)
        #expect(with.encode("a", parseSpecial: true) == [9, 0])
        #expect(with.encode("", parseSpecial: true) == [9])
        let without = try tiny(merges: [], special: [("<s>", .control)])
        #expect(without.encode("a", parseSpecial: true) == [0])
    }

    @Test func malformedVocabulariesAreTypedErrors() {
        #expect(throws: TokenizerError.invalidVocabulary("the token list is empty")) {
            try BPETokenizer(tokens: [], tokenTypes: [], merges: [], preTokenizer: .gpt2, special: SpecialTokens())
        }
        #expect(throws: TokenizerError.invalidVocabulary("1 token types for 2 tokens")) {
            try BPETokenizer(tokens: ["a", "b"], tokenTypes: [1], merges: [], preTokenizer: .gpt2, special: SpecialTokens())
        }
        #expect(throws: TokenizerError.invalidVocabulary("token 1 has unknown token type 9")) {
            try BPETokenizer(tokens: ["a", "b"], tokenTypes: [1, 9], merges: [], preTokenizer: .gpt2, special: SpecialTokens())
        }
        #expect(throws: TokenizerError.invalidMerge(index: 1, text: "ab")) {
            try BPETokenizer(tokens: ["a", "b"], tokenTypes: [], merges: ["a b", "ab"], preTokenizer: .gpt2, special: SpecialTokens())
        }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "eos", id: 7, vocabularySize: 2)) {
            try BPETokenizer(tokens: ["a", "b"], tokenTypes: [], merges: [], preTokenizer: .gpt2, special: SpecialTokens(eos: 7))
        }
    }

    @Test func metadataLoadingChecksModelAndPreTokenizer() throws {
        let good: [String: any Sendable] = [
            TokenizerKey.model: "gpt2", TokenizerKey.preTokenizer: "smollm",
            TokenizerKey.tokens: ["a", "b", "ab", "<|end|>"], TokenizerKey.tokenTypes: [1, 1, 1, 3],
            TokenizerKey.merges: ["a b"], TokenizerKey.eos: 3, TokenizerKey.addBOS: false,
            TokenizerKey.chatTemplate: "junk",
        ]
        let tokenizer = try BPETokenizer(metadata: DictionaryMetadata(values: good))
        #expect(tokenizer.encode("ab<|end|>", parseSpecial: true) == [2, 3])
        #expect(tokenizer.endOfGenerationIDs == [3])
        #expect(throws: TokenizerError.unknownChatTemplate(excerpt: "junk")) {
            try ChatTemplate(metadata: DictionaryMetadata(values: good))
        }

        func loading(_ change: (inout [String: any Sendable]) -> Void) -> DictionaryMetadata {
            var values = good
            change(&values)
            return DictionaryMetadata(values: values)
        }
        #expect(throws: TokenizerError.unsupportedModel("bert")) {
            try BPETokenizer(metadata: loading { $0[TokenizerKey.model] = "bert" })
        }
        #expect(throws: TokenizerError.unsupportedPreTokenizer("deepseek-llm")) {
            try BPETokenizer(metadata: loading { $0[TokenizerKey.preTokenizer] = "deepseek-llm" })
        }
        for key in [TokenizerKey.model, TokenizerKey.preTokenizer, TokenizerKey.tokens, TokenizerKey.merges] {
            #expect(throws: TokenizerError.missingMetadata(key: key)) {
                try BPETokenizer(metadata: loading { $0[key] = nil })
            }
        }
        #expect(throws: TokenizerError.missingChatTemplate) {
            try ChatTemplate(metadata: loading { $0[TokenizerKey.chatTemplate] = nil })
        }
    }

    @Test func errorsDescribeThemselves() {
        #expect(TokenizerError.unsupportedPreTokenizer("deepseek-llm").description.contains("qwen2"))
        #expect(TokenizerError.tokenIDOutOfRange(id: 9, vocabularySize: 3).description.contains("9"))
        #expect(TokenizerError.missingMetadata(key: "k").description.contains("'k'"))
    }
}
