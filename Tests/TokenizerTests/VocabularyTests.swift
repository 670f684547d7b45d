import Testing
@testable import Tokenizer

/// Vocabulary accessors and special tokens of the SmolLM2 tokenizer.
@Suite struct VocabularyTests {
    @Test func modelFactsAreAsDocumented() throws {
        let tokenizer = try TestModel.tokenizer()
        #expect(tokenizer.vocabularySize == 49_152)
        #expect(tokenizer.preTokenizer == .smollm)
        #expect(tokenizer.bosID == 1)
        #expect(tokenizer.eosID == 2)
        #expect(tokenizer.special.unknown == 0)
        #expect(tokenizer.special.addBOS == false)
        #expect(try tokenizer.tokenText(0) == "<|endoftext|>")
        #expect(try tokenizer.tokenText(1) == "<|im_start|>")
        #expect(try tokenizer.tokenText(2) == "<|im_end|>")
        #expect(tokenizer.endOfGenerationIDs == [0, 2])
        #expect(tokenizer.tokenID(forText: "<|im_end|>") == 2)
        #expect(tokenizer.tokenID(forText: "Ġworld") == 905)
        #expect(tokenizer.tokenID(forText: " world") == nil)
    }

    @Test func controlTokensAreTheFirstSeventeen() throws {
        let tokenizer = try TestModel.tokenizer()
        let control = (0..<tokenizer.vocabularySize).filter(tokenizer.isControl)
        #expect(control == Array(0...16))
        #expect(!tokenizer.isControl(-1))
        #expect(!tokenizer.isControl(49_152))
        #expect(tokenizer.tokenType(17) == .normal)
        #expect(tokenizer.tokenType(49_152) == nil)
    }

    @Test func tokenBytesAreTheRawBytesATokenStandsFor() throws {
        let tokenizer = try TestModel.tokenizer()
        #expect(try tokenizer.tokenText(216) == "Ġ")
        #expect(try tokenizer.tokenBytes(216) == [0x20])
        #expect(try tokenizer.tokenBytes(198) == [0x0A])
        #expect(try tokenizer.tokenBytes(905) == Array(" world".utf8))
        #expect(try tokenizer.tokenBytes(2756) == Array("é".utf8))
        #expect(try tokenizer.tokenBytes(10813) == [0xF0, 0x9F])  // the first half of 🤖 (F0 9F A4 96)
        #expect(try tokenizer.tokenBytes(1) == Array("<|im_start|>".utf8))
        // Every token stands for at least one byte.
        for id in 0..<tokenizer.vocabularySize {
            #expect(try !tokenizer.tokenBytes(id).isEmpty, "token \(id)")
        }
    }

    @Test func idsOutOfRangeAreErrors() throws {
        let tokenizer = try TestModel.tokenizer()
        let tooBig = TokenizerError.tokenIDOutOfRange(id: 49_152, vocabularySize: 49_152)
        #expect(throws: tooBig) { try tokenizer.tokenText(49_152) }
        #expect(throws: tooBig) { try tokenizer.tokenBytes(49_152) }
        #expect(throws: tooBig) { try tokenizer.decode([19556, 49_152]) }
        #expect(throws: TokenizerError.tokenIDOutOfRange(id: -5, vocabularySize: 49_152)) { try tokenizer.decode([-5]) }
    }

    @Test func decodingCanLeaveControlTokensOut() throws {
        let tokenizer = try TestModel.tokenizer()
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", parseSpecial: true)
        #expect(try tokenizer.decodeText(ids) == "<|im_start|>user\nHi<|im_end|>")
        #expect(try tokenizer.decodeText(ids, renderControlTokens: false) == "user\nHi")
    }

    @Test func bytesWithoutATokenAreDroppedAsLlamaCppDoes() throws {
        let tokenizer = try TestModel.tokenizer()
        // 21 byte values (0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, 0xF5…0xFF) have no
        // token in this vocabulary; no merge produces a string outside it.
        #expect(tokenizer.virtualPieceCount == 21)
        #expect(tokenizer.encode("a\u{4}b", parseSpecial: true) == [81, 82])
        // U+50000 is F1 90 80 80: the F1 byte has no token (llama.cpp gives the same ids).
        #expect(tokenizer.encode(" \u{50000} y", parseSpecial: true) == [216, 234, 218, 218, 329])
    }

    @Test func encodingWithoutSpecialParsingRoundTripsControlText() throws {
        let tokenizer = try TestModel.tokenizer()
        let text = "<|im_start|><|endoftext|><file_sep>"
        let plain = tokenizer.encode(text, parseSpecial: false)
        #expect(!plain.contains { tokenizer.isControl($0) })
        #expect(try tokenizer.decode(plain) == Array(text.utf8))
        #expect(tokenizer.encode(text, parseSpecial: true) == [1, 0, 5])
    }
}
