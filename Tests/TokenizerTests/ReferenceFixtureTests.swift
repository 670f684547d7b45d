import Testing
@testable import Tokenizer

/// The tokenizer against llama.cpp's own output for the same model (Fixtures/*.jsonl).
@Suite struct ReferenceFixtureTests {
    @Test func everyFixtureLineEncodesToLlamaCppIDs() throws {
        let tokenizer = try TestModel.tokenizer()
        let cases = try Fixtures.tokenizerCases()
        #expect(cases.count == 59)
        for (index, item) in cases.enumerated() {
            let got = tokenizer.encode(item.text, parseSpecial: item.parseSpecial)
            #expect(got == item.ids, """
                line \(index + 1): \(item.text.debugDescription) (parseSpecial: \(item.parseSpecial))
                  expected \(item.ids)
                  got      \(got)
                """)
        }
    }

    @Test func everyFixtureLineDecodesToItsTextByteForByte() throws {
        let tokenizer = try TestModel.tokenizer()
        for (index, item) in try Fixtures.tokenizerCases().enumerated() {
            let bytes = try tokenizer.decode(item.ids)
            #expect(bytes == Array(item.text.utf8), """
                line \(index + 1): \(item.text.debugDescription)
                  got \(String(decoding: bytes, as: UTF8.self).debugDescription)
                """)
        }
    }

    /// 620 machine-made strings (random mixes of words, digits, contractions, whitespace kinds,
    /// scripts, marks, emoji, unassigned and private-use code points, partial special tokens),
    /// tokenized by the same llama.cpp as the reference (llama-cpp-python 0.3.36, vocab only, no BOS).
    @Test func generatedStringsEncodeToLlamaCppIDs() throws {
        let tokenizer = try TestModel.tokenizer()
        let cases = try Fixtures.fuzzCases()
        #expect(cases.count == 620)
        for (index, item) in cases.enumerated() {
            let got = tokenizer.encode(item.text, parseSpecial: item.parseSpecial)
            #expect(got == item.ids, """
                fuzz line \(index + 1): \(item.text.debugDescription) (parseSpecial: \(item.parseSpecial))
                  expected \(item.ids)
                  got      \(got)
                """)
        }
    }

    @Test func chatPromptsRenderLikeTheModelTemplateAndEncodeToReferenceIDs() throws {
        let tokenizer = try TestModel.tokenizer()
        let template = try TestModel.chatTemplate()
        let cases = try Fixtures.chatCases()
        #expect(cases.count == 10)
        for item in cases {
            let messages = item.messages.map { ChatMessage(role: $0.role, content: $0.content) }
            let prompt = template.render(messages, addGenerationPrompt: true)
            #expect(prompt == item.prompt)
            let ids = tokenizer.encode(prompt, parseSpecial: true)
            #expect(ids == item.promptIDs, "prompt \(prompt.debugDescription)\n expected \(item.promptIDs)\n got \(ids)")
        }
    }
}
