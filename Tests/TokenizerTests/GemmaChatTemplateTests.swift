import Testing
@testable import Tokenizer

/// The Gemma chat format, template names chosen explicitly, and the errors that ask for one.
@Suite struct GemmaChatTemplateTests {
    /// The core of Google's Gemma 3 template (abridged: the image and type checks are left out).
    static let gemma3Template = """
        {{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\
        {%- set loop_messages = messages[1:] -%}{%- else -%}{%- set first_user_prefix = "" -%}{%- set loop_messages = messages -%}\
        {%- endif -%}{%- for message in loop_messages -%}{%- if (message['role'] == 'assistant') -%}{%- set role = "model" -%}\
        {%- else -%}{%- set role = message['role'] -%}{%- endif -%}\
        {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}{{ message['content'] | trim }}\
        {{ '<end_of_turn>\\n' }}{%- endfor -%}{%- if add_generation_prompt -%}{{'<start_of_turn>model\\n'}}{%- endif -%}
        """

    @Test func gemmaTemplatesAreRecognised() throws {
        #expect(try ChatTemplate(template: GemmaChatTemplateTests.gemma3Template) == .gemma)
        #expect(ChatTemplate.gemma.endOfTurn == "<end_of_turn>")
    }

    @Test func theSystemTextOpensTheFirstUserTurnAndAssistantIsModel() {
        let messages: [ChatMessage] = [
            .system("You route requests."), .user("  Where is my order?\n"), .assistant("{\"tool\":\"x\"}"), .user("Thanks"),
        ]
        #expect(ChatTemplate.gemma.render(messages, addGenerationPrompt: true) == """
            <start_of_turn>user
            You route requests.

            Where is my order?<end_of_turn>
            <start_of_turn>model
            {"tool":"x"}<end_of_turn>
            <start_of_turn>user
            Thanks<end_of_turn>
            <start_of_turn>model

            """)
        #expect(ChatTemplate.gemma.render([.user("Hi")], addGenerationPrompt: false) == "<start_of_turn>user\nHi<end_of_turn>\n")
        #expect(ChatTemplate.gemma.render([.system("Alone")], addGenerationPrompt: false) == "")
    }

    @Test func gemmaPiecesKeepTheTemplatesControlTokensApartFromText() {
        let pieces = ChatTemplate.gemma.pieces([.system("S"), .user("<end_of_turn>")], addGenerationPrompt: true)
        #expect(pieces == [
            .control("<start_of_turn>"), .text("user\nS\n\n<end_of_turn>"), .control("<end_of_turn>"), .text("\n"),
            .control("<start_of_turn>"), .text("model\n"),
        ])
    }

    @Test func gemmaPromptsEncodeWithTheModelsControlTokens() throws {
        let tokenizer = try GemmaModel.tokenizer()
        let ids = tokenizer.encode(ChatTemplate.gemma.pieces([.user("Where's my order?")], addGenerationPrompt: true))
        // BOS, then the reference ids of the same prompt (Fixtures/tokenizer-gemma3.jsonl, parse_special true).
        #expect(ids == [2, 105, 2364, 107, 10936, 236789, 236751, 1041, 1900, 236881, 106, 107, 105, 4368, 107])
    }

    @Test func templatesCanBeNamedExplicitly() throws {
        #expect(try ChatTemplate(name: "gemma") == .gemma)
        #expect(try ChatTemplate(name: "llama3") == .llama3)
        #expect(try ChatTemplate(name: "ChatML") == .chatML(defaultSystemPrompt: nil))
        #expect(throws: TokenizerError.unknownChatTemplateName("mistral")) { try ChatTemplate(name: "mistral") }
        #expect(ChatTemplate.names == ["chatml", "llama3", "gemma"])
    }

    @Test func aMissingOrUnknownTemplateAsksForAName() throws {
        let none = DictionaryMetadata(values: [:])
        #expect(throws: TokenizerError.missingChatTemplate) { try ChatTemplate(metadata: none) }
        #expect(try ChatTemplate(metadata: none, name: "gemma") == .gemma)
        let junk = DictionaryMetadata(values: [TokenizerKey.chatTemplate: "### {{ m }}"])
        #expect(throws: TokenizerError.unknownChatTemplate(excerpt: "### {{ m }}")) { try ChatTemplate(metadata: junk) }
        // An explicit name wins over whatever the file holds.
        #expect(try ChatTemplate(metadata: junk, name: "llama3") == .llama3)
        for error in [TokenizerError.missingChatTemplate, .unknownChatTemplate(excerpt: "x")] {
            #expect(error.description.contains("--chat-template NAME"), "\(error)")
            #expect(error.description.contains("chatml, llama3, gemma"), "\(error)")
        }
        #expect(TokenizerError.unknownChatTemplateName("x").description.contains("known: chatml, llama3, gemma"))
    }

    @Test func theGemmaModelFileHasNoTemplateAndNeedsAName() throws {
        let file = try GemmaModel.open()
        #expect(throws: TokenizerError.missingChatTemplate) { try ChatTemplate(gguf: file) }
        #expect(try ChatTemplate(gguf: file, name: "gemma") == .gemma)
    }
}
