import Testing
@testable import Tokenizer

/// SentencePiece merging (llama.cpp's `llama` model) on small hand-made vocabularies, loaded through
/// the metadata protocol.
@Suite struct SentencePieceTests {
    /// `<unk>`, `<s>`, `</s>` (ids 0…2), the 256 byte tokens `<0x00>`…`<0xFF>` (ids 3…258), then
    /// `pieces` as normal tokens (ids 259…) and `userDefined` tokens.
    private func metadata(
        _ pieces: [(String, Float)], userDefined: [String] = [], byteTokens: Bool = true
    ) -> [String: any Sendable] {
        let bytes = byteTokens ? (0..<256).map { "<0x" + String(UInt8($0), radix: 16, uppercase: true).leftPadded(to: 2) + ">" } : []
        let tokens = ["<unk>", "<s>", "</s>"] + bytes + pieces.map(\.0) + userDefined
        let types = [TokenType.unknown, .control, .control].map(\.rawValue)
            + Array(repeating: TokenType.byte.rawValue, count: bytes.count)
            + Array(repeating: TokenType.normal.rawValue, count: pieces.count)
            + Array(repeating: TokenType.userDefined.rawValue, count: userDefined.count)
        let scores = [Float](repeating: 0, count: 3 + bytes.count) + pieces.map(\.1)
            + [Float](repeating: 0, count: userDefined.count)
        return [
            TokenizerKey.model: "llama", TokenizerKey.preTokenizer: "default",
            TokenizerKey.tokens: tokens, TokenizerKey.tokenTypes: types, TokenizerKey.scores: scores,
            TokenizerKey.bos: 1, TokenizerKey.eos: 2, TokenizerKey.unknown: 0,
            TokenizerKey.addBOS: false, TokenizerKey.addSpacePrefix: false,
        ]
    }

    private func tokenizer(
        _ pieces: [(String, Float)], userDefined: [String] = [], byteTokens: Bool = true,
        _ change: (inout [String: any Sendable]) -> Void = { _ in }
    ) throws -> BPETokenizer {
        var values = metadata(pieces, userDefined: userDefined, byteTokens: byteTokens)
        change(&values)
        return try BPETokenizer(metadata: DictionaryMetadata(values: values))
    }

    private func texts(_ text: String, _ tokenizer: BPETokenizer, parseSpecial: Bool = false) throws -> [String] {
        try tokenizer.encode(text, parseSpecial: parseSpecial).map { id throws(TokenizerError) in try tokenizer.tokenText(id) }
    }

    private let letters: [(String, Float)] = [("▁", -1), ("a", -1), ("b", -1), ("c", -1)]

    @Test func theHighestScoringPairMergesFirst() throws {
        let bcFirst = try tokenizer(letters + [("ab", -3), ("bc", -2)])
        #expect(try texts("abc", bcFirst) == ["a", "bc"])
        let abFirst = try tokenizer(letters + [("ab", -2), ("bc", -3)])
        #expect(try texts("abc", abFirst) == ["ab", "c"])
        // Merged symbols merge again when their concatenation is a token.
        let whole = try tokenizer(letters + [("ab", -2), ("bc", -3), ("abc", -9)])
        #expect(try texts("abc", whole) == ["abc"])
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        let tokenizer = try tokenizer(letters + [("aa", -2)])
        #expect(try texts("aaa", tokenizer) == ["aa", "a"])
        #expect(try texts("aaaaa", tokenizer) == ["aa", "aa", "a"])
        // The same tie between different tokens: "ab" and "bc" both score -2, "ab" is further left.
        let tied = try self.tokenizer(letters + [("ab", -2), ("bc", -2)])
        #expect(try texts("abc", tied) == ["ab", "c"])
    }

    @Test func charactersWithoutATokenBecomeByteTokens() throws {
        let tokenizer = try tokenizer(letters)
        #expect(try texts("aéz", tokenizer) == ["a", "<0xC3>", "<0xA9>", "<0x7A>"])
        #expect(try tokenizer.decodeText(tokenizer.encode("aéz", parseSpecial: false)) == "aéz")
        #expect(try tokenizer.tokenBytes(3 + 0xC3) == [0xC3])
    }

    @Test func withoutByteTokensAMissingCharacterBecomesTheUnknownToken() throws {
        let tokenizer = try tokenizer(letters, byteTokens: false)
        #expect(tokenizer.encode("aé", parseSpecial: false) == [4, 0, 0])  // llama.cpp would throw here
    }

    @Test func spacesAreWrittenAsLowerOneEighthBlocks() throws {
        let tokenizer = try tokenizer(letters + [("▁a", -2), ("▁▁", -5)])
        #expect(try texts("b a", tokenizer) == ["b", "▁a"])
        #expect(try texts("b  a", tokenizer) == ["b", "▁", "▁a"])  // "▁a" (-2) merges before "▁▁" (-5)
        #expect(try tokenizer.tokenBytes(259 + 4) == Array(" a".utf8))
        #expect(try tokenizer.decodeText(tokenizer.encode("b a", parseSpecial: false)) == "b a")
    }

    @Test func theSpacePrefixGoesBeforeTheTextAndAfterEachSpecialToken() throws {
        let pieces = letters + [("▁a", -2), ("▁b", -2)]
        let prefixed = try tokenizer(pieces) { $0[TokenizerKey.addSpacePrefix] = true }
        #expect(try texts("a b", prefixed) == ["▁a", "▁b"])
        #expect(try texts("a</s>b", prefixed, parseSpecial: true) == ["▁a", "</s>", "▁b"])
        #expect(try texts("", prefixed) == [])
        // Decoding keeps the space the prefix added (llama.cpp's detokenizer strips it; ours is the bytes).
        #expect(try prefixed.decodeText(prefixed.encode("a", parseSpecial: false)) == " a")
        let plain = try tokenizer(pieces)
        #expect(try texts("a b", plain) == ["a", "▁b"])
        #expect(try texts("a</s>b", plain, parseSpecial: true) == ["a", "</s>", "b"])
    }

    @Test func userDefinedTokensAreCutOutBeforeSpacesAreEscaped() throws {
        let tokenizer = try tokenizer(letters, userDefined: ["  ", "\n"])
        #expect(try texts("a  b\nc", tokenizer) == ["a", "  ", "b", "\n", "c"])
        #expect(try tokenizer.tokenBytes(259 + 4) == [0x20, 0x20])  // user-defined: written as stored
    }

    @Test func controlTokensNeedParseSpecial() throws {
        let tokenizer = try tokenizer(letters)
        #expect(try texts("a<s>", tokenizer, parseSpecial: true) == ["a", "<s>"])
        #expect(try texts("a<s>", tokenizer, parseSpecial: false) == ["a", "<0x3C>", "<0x73>", "<0x3E>"])
        #expect(try tokenizer.tokenBytes(1) == Array("<s>".utf8))
        #expect(try tokenizer.tokenBytes(0) == Array("<unk>".utf8))
        #expect(tokenizer.endOfGenerationIDs == [2])
    }

    @Test func metadataDefaultsAreLlamaCppsForSentencePiece() throws {
        let tokenizer = try tokenizer(letters) {
            for key in [TokenizerKey.addBOS, TokenizerKey.addSpacePrefix, TokenizerKey.preTokenizer, TokenizerKey.bos,
                        TokenizerKey.eos, TokenizerKey.unknown, TokenizerKey.scores] { $0[key] = nil }
        }
        #expect(tokenizer.special == SpecialTokens(bos: 1, eos: 2, unknown: 0, addBOS: true))
        #expect(try texts("a", tokenizer) == ["<s>", "▁", "a"])  // BOS, then the space prefix; no "▁a" token
    }

    @Test func inconsistentSentencePieceTablesAreRefusedByName() throws {
        #expect(throws: TokenizerError.invalidVocabulary("4 scores for 263 tokens")) {
            try tokenizer(letters) { $0[TokenizerKey.scores] = [Float](repeating: 0, count: 4) }
        }
        #expect(throws: TokenizerError.missingMetadata(key: TokenizerKey.scores)) {
            try tokenizer(letters) { $0[TokenizerKey.scores] = ["not", "numbers"] }
        }
        #expect(throws: TokenizerError.invalidVocabulary("byte token 259 is '▁', not of the form <0xNN>")) {
            try tokenizer(letters) { values in
                var types = values[TokenizerKey.tokenTypes] as? [Int] ?? []
                types[259] = TokenType.byte.rawValue
                values[TokenizerKey.tokenTypes] = types
            }
        }
        #expect(throws: TokenizerError.unsupportedPreTokenizer("llama-bpe")) {
            try tokenizer(letters) { $0[TokenizerKey.preTokenizer] = "llama-bpe" }
        }
        #expect(throws: TokenizerError.unsupportedModel("bert")) {
            try tokenizer(letters) { $0[TokenizerKey.model] = "bert" }
        }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "bos", id: 999, vocabularySize: 263)) {
            try tokenizer(letters) { $0[TokenizerKey.bos] = 999 }
        }
    }

    @Test func scorePriorityKeysOrderFromHighestToLowest() {
        let scores: [Float] = [3.5, 0, -0.0, -1, -1000, -236_280, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        let byKey = scores.sorted { SentencePieceModel.priorityKey($0) < SentencePieceModel.priorityKey($1) }
        #expect(byKey == scores.sorted(by: >))
        #expect(SentencePieceModel.priorityKey(0) == SentencePieceModel.priorityKey(-0.0))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
