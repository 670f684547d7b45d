import Testing
@testable import Tokenizer

/// The SentencePiece tokenizer of Gemma 3 270M against llama.cpp's output (Fixtures/tokenizer-gemma3.jsonl).
/// Needs models/gemma-3-270m-q4_k_m.gguf (`scripts/setup --model gemma3-270m`); fails, not skips, without it.
@Suite struct GemmaTokenizerTests {
    @Test func modelFactsAreAsInTheFile() throws {
        let tokenizer = try GemmaModel.tokenizer()
        #expect(tokenizer.vocabularySize == 262_144)
        #expect(tokenizer.preTokenizer == nil)
        #expect(tokenizer.bosID == 2)
        #expect(tokenizer.eosID == 1)
        #expect(tokenizer.special.unknown == 3)
        #expect(tokenizer.special.padding == 0)
        #expect(tokenizer.special.addBOS)
        #expect(!tokenizer.special.addEOS)
        guard case .sentencePiece(let model) = tokenizer.model else {
            Issue.record("expected a SentencePiece vocabulary")
            return
        }
        #expect(!model.addSpacePrefix)
        #expect(tokenizer.tokenID(forText: "<end_of_turn>") == 106)
        #expect(tokenizer.tokenID(forText: "▁world") != nil)
    }

    @Test func everyReferenceLineEncodesToLlamaCppIDsAfterBOS() throws {
        let tokenizer = try GemmaModel.tokenizer()
        let cases = try Fixtures.gemmaTokenizerCases()
        #expect(cases.count == 53)
        #expect(cases.contains { $0.parseSpecial } && cases.contains { !$0.parseSpecial })
        for (index, item) in cases.enumerated() {
            let got = tokenizer.encode(item.text, parseSpecial: item.parseSpecial)
            #expect(got.first == 2, "line \(index + 1): add_bos_token is true, so BOS comes first")
            #expect(Array(got.dropFirst()) == item.ids, """
                line \(index + 1): \(item.text.debugDescription) (parseSpecial: \(item.parseSpecial))
                  expected \(item.ids)
                  got      \(Array(got.dropFirst()))
                """)
        }
    }

    @Test func referenceTextsRoundTrip() throws {
        let tokenizer = try GemmaModel.tokenizer()
        for (index, item) in try Fixtures.gemmaTokenizerCases().enumerated() {
            let ids = tokenizer.encode(item.text, parseSpecial: item.parseSpecial)
            #expect(try tokenizer.decode(Array(ids.dropFirst())) == Array(item.text.utf8), "line \(index + 1)")
            #expect(try tokenizer.decode(item.ids) == Array(item.text.utf8), "line \(index + 1), reference ids")
            var decoder = StreamingDecoder(tokenizer: tokenizer)
            var streamed = ""
            for id in item.ids { streamed += try decoder.feed(id) }
            streamed += decoder.finish()
            #expect(streamed == item.text, "line \(index + 1), streamed")
        }
    }

    /// What the grammar engine builds its token masks from, checked for all 262,144 ids against the
    /// token's text and type the way llama.cpp's `token_to_piece` renders it.
    @Test func tokenBytesAreWhatEachTokenWrites() throws {
        let tokenizer = try GemmaModel.tokenizer()
        #expect(try tokenizer.tokenBytes(236743) == [0x20])                      // "▁"
        #expect(try tokenizer.tokenBytes(1041) == Array(" my".utf8))             // "▁my"
        #expect(try tokenizer.tokenBytes(107) == [0x0A])                         // "\n", user-defined
        #expect(try tokenizer.tokenBytes(138) == [0x20, 0x20])                   // "  ", user-defined
        #expect(try tokenizer.tokenBytes(222461) == [0x20, 0xCC, 0x81])          // "▁" + U+0301 (one Character)
        #expect(try tokenizer.tokenBytes(238) == [0x00])                         // "<0x00>"
        #expect(try tokenizer.tokenBytes(493) == [0xFF])                         // "<0xFF>"
        #expect(try tokenizer.tokenBytes(105) == Array("<start_of_turn>".utf8))  // control: its text
        var counts: [TokenType: Int] = [:]
        for id in 0..<tokenizer.vocabularySize {
            let text = try tokenizer.tokenText(id)
            let type = try #require(tokenizer.tokenType(id))
            counts[type, default: 0] += 1
            let expected: [UInt8]
            switch type {
            case .normal:  // by scalar: "▁" followed by a combining mark is one Character, still two scalars
                expected = Array(String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "▁" ? " " : $0 })).utf8)
            case .byte: expected = [try #require(UInt8(text.dropFirst(3).dropLast(), radix: 16))]
            case .control, .userDefined, .unknown: expected = Array(text.utf8)
            case .unused: expected = []
            }
            let got = try tokenizer.tokenBytes(id)
            if got != expected { Issue.record("token \(id) \(text.debugDescription): \(got) ≠ \(expected)") }
        }
        #expect(counts == [.normal: 255_474, .control: 6_249, .byte: 256, .userDefined: 165])
    }

    @Test func endOfTurnAndEOSEndGeneration() throws {
        let tokenizer = try GemmaModel.tokenizer()
        #expect(tokenizer.endOfGenerationIDs == [1, 106])
        #expect(tokenizer.isControl(106) && tokenizer.isControl(105) && tokenizer.isControl(2))
    }

    @Test func bosIsAddedOnceAndControlTokensCanBeLeftOutOfDecoding() throws {
        let tokenizer = try GemmaModel.tokenizer()
        #expect(tokenizer.encode("Hello world", parseSpecial: true) == [2, 9259, 1902])
        #expect(tokenizer.encode("", parseSpecial: true) == [2])
        let ids = tokenizer.encode("<start_of_turn>user\nHi<end_of_turn>", parseSpecial: true)
        #expect(ids.prefix(2) == [2, 105])
        #expect(try tokenizer.decodeText(ids, renderControlTokens: false) == "user\nHi")
        let pieces: [PromptPiece] = [.control("<start_of_turn>"), .text("user\n<end_of_turn>"), .control("<end_of_turn>")]
        let fromPieces = tokenizer.encode(pieces)
        #expect(fromPieces.first == 2 && fromPieces.dropFirst().first == 105 && fromPieces.last == 106)
        #expect(fromPieces.filter { $0 == 106 }.count == 1, "the text's <end_of_turn> stays text")
    }

    @Test func charactersOutsideTheVocabularyFallBackToByteTokens() throws {
        let tokenizer = try GemmaModel.tokenizer()
        // U+2FFF (unassigned) is no token: its three UTF-8 bytes E2 BF BF become <0xE2> <0xBF> <0xBF>.
        let ids = Array(tokenizer.encode("\u{2FFF}", parseSpecial: false).dropFirst())
        #expect(try ids.map { id throws(TokenizerError) in try tokenizer.tokenText(id) } == ["<0xE2>", "<0xBF>", "<0xBF>"])
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        #expect(try decoder.feed(ids[0]) == "")
        #expect(try decoder.feed(ids[1]) == "")
        #expect(try decoder.feed(ids[2]) == "\u{2FFF}")
    }
}
