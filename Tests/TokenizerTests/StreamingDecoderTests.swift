import Testing
@testable import Tokenizer

/// Token-by-token decoding of text whose characters are split across tokens.
@Suite struct StreamingDecoderTests {
    /// Streams `ids` one at a time; returns the pieces (finish() included) and how often bytes were held back.
    private func stream(_ ids: [Int], _ tokenizer: BPETokenizer) throws -> (pieces: [String], holds: Int) {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var pieces: [String] = []
        var holds = 0
        for id in ids {
            pieces.append(try decoder.feed(id))
            if decoder.hasPendingBytes { holds += 1 }
        }
        pieces.append(decoder.finish())
        return (pieces, holds)
    }

    @Test func streamedPiecesOfEveryFixtureConcatenateToTheText() throws {
        let tokenizer = try TestModel.tokenizer()
        var totalHolds = 0
        for item in try Fixtures.tokenizerCases() {
            let (pieces, holds) = try stream(item.ids, tokenizer)
            totalHolds += holds
            #expect(pieces.joined() == item.text, "\(item.text.debugDescription): \(pieces)")
            // No piece was emitted early: none carries a replacement character.
            #expect(!pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") }, "\(item.text.debugDescription): \(pieces)")
        }
        #expect(totalHolds > 20, "the fixtures should split many characters across tokens")
    }

    @Test func emojiSplitAcrossThreeTokensIsHeldBackUntilComplete() throws {
        let tokenizer = try TestModel.tokenizer()
        let ids = tokenizer.encode("🤖", parseSpecial: true)
        #expect(ids == [10813, 114, 240])
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        #expect(try decoder.feed(ids[0]) == "")
        #expect(try decoder.feed(ids[1]) == "")
        #expect(decoder.hasPendingBytes)
        #expect(try decoder.feed(ids[2]) == "🤖")
        #expect(!decoder.hasPendingBytes)
        #expect(decoder.finish() == "")
    }

    @Test func cjkAndAccentsStreamWithoutLoss() throws {
        let tokenizer = try TestModel.tokenizer()
        for text in ["日本語のテキストです。", "中文测试：你好，世界！", "한국어 텍스트", "Ünïcödé téxt: naïve café", "emoji 😀🎉👍🏽 and 🇩🇪 flags"] {
            let (pieces, _) = try stream(tokenizer.encode(text, parseSpecial: true), tokenizer)
            #expect(pieces.joined() == text)
        }
    }

    @Test func finishFlushesAnIncompleteCharacterAsReplacement() throws {
        let tokenizer = try TestModel.tokenizer()
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        #expect(try decoder.feed(10813) == "")  // first bytes of a 4-byte emoji
        #expect(decoder.finish() == "\u{FFFD}")
        #expect(!decoder.hasPendingBytes)
        // After finish the decoder starts clean.
        #expect(try decoder.feed(19556) == "Hello")
    }

    @Test func controlTokensRenderAsTextOrNothing() throws {
        let tokenizer = try TestModel.tokenizer()
        var rendering = StreamingDecoder(tokenizer: tokenizer)
        #expect(try rendering.feed(2) == "<|im_end|>")
        var silent = StreamingDecoder(tokenizer: tokenizer, renderControlTokens: false)
        #expect(try silent.feed(2) == "")
        #expect(try silent.feed(19556) == "Hello")
    }

    @Test func outOfRangeIDThrowsAndLeavesTheDecoderUnchanged() throws {
        let tokenizer = try TestModel.tokenizer()
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        #expect(try decoder.feed(10813) == "")
        #expect(throws: TokenizerError.tokenIDOutOfRange(id: 49152, vocabularySize: 49152)) { try decoder.feed(49152) }
        #expect(throws: TokenizerError.tokenIDOutOfRange(id: -1, vocabularySize: 49152)) { try decoder.feed(-1) }
        #expect(try decoder.feed(114) == "")
        #expect(try decoder.feed(240) == "🤖")
    }

    @Test func completePrefixLengthHoldsOnlyValidUnfinishedSequences() {
        let cut = StreamingDecoder.completePrefixLength
        #expect(cut([0x41]) == 1)
        #expect(cut([0x41, 0xF0]) == 1)  // start of a 4-byte sequence
        #expect(cut([0xF0, 0x9F, 0xA4]) == 0)  // 3 of 4 bytes
        #expect(cut([0xF0, 0x9F, 0xA4, 0x96]) == 4)  // complete
        #expect(cut([0xC3]) == 0)
        #expect(cut([0xC3, 0xA9]) == 2)
        #expect(cut([0xE0, 0x80]) == 2)  // E0 80 can never be valid: emit now (as U+FFFD)
        #expect(cut([0xED, 0xA0]) == 2)  // a surrogate: invalid
        #expect(cut([0x80, 0x80]) == 2)  // stray continuation bytes
        #expect(cut([0xFF]) == 1)
        #expect(cut([]) == 0)
    }
}
