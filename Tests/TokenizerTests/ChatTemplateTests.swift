import Testing
@testable import Tokenizer

/// Recognising chat-template families from Jinja text, and rendering them.
@Suite struct ChatTemplateTests {
    private let smolLMPrompt = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    @Test func modelTemplateIsChatMLWithSmolLMDefaultSystemPrompt() throws {
        let source = try TestModel.chatTemplateSource()
        #expect(try ChatTemplate(template: source) == .chatML(defaultSystemPrompt: smolLMPrompt))
    }

    @Test func chatMLRendersTheReferencePrompt() throws {
        let template = try TestModel.chatTemplate()
        let prompt = template.render([.user("What is the capital of France?")], addGenerationPrompt: true)
        #expect(prompt == "<|im_start|>system\n\(smolLMPrompt)<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func chatMLKeepsAnExplicitSystemMessageAndRendersHistory() {
        let template = ChatTemplate.chatML(defaultSystemPrompt: smolLMPrompt)
        let messages: [ChatMessage] = [.system("Be brief."), .user("Hi"), .assistant("Hello!"), .user("Bye")]
        #expect(template.render(messages, addGenerationPrompt: false) == """
            <|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>
            <|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n
            """)
        #expect(template.render([], addGenerationPrompt: true) == "<|im_start|>assistant\n")
        #expect(ChatTemplate.chatML(defaultSystemPrompt: nil).render([.user("x")], addGenerationPrompt: false)
            == "<|im_start|>user\nx<|im_end|>\n")
    }

    @Test func chatMLWithoutConstantSystemPromptHasNoDefault() throws {
        let qwenLike = """
            {%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\
            {%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
            """
        #expect(try ChatTemplate(template: qwenLike) == .chatML(defaultSystemPrompt: nil))
        // An escaped newline and a double-quoted literal are read like Jinja reads them.
        let escaped = #"{% if messages[0]['role'] != "system" %}{{ "<|im_start|>system\nYou're kind.<|im_end|>\n" }}{% endif %}"#
            + #"{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}"#
        #expect(try ChatTemplate(template: escaped) == .chatML(defaultSystemPrompt: "You're kind."))
    }

    @Test func llama3TemplateIsRecognisedAndRendered() throws {
        let source = """
            {{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' \
            + message['content'] | trim + '<|eot_id|>' }}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}
            """
        let template = try ChatTemplate(template: source)
        #expect(template == .llama3)
        let prompt = template.render([.system("Be brief."), .user("  Hi there \n")], addGenerationPrompt: true)
        #expect(prompt == "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    @Test func unknownTemplatesAreErrorsNotGuesses() {
        let junk = "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}### Assistant:"
        #expect(throws: TokenizerError.unknownChatTemplate(excerpt: ChatTemplate.excerpt(of: junk))) {
            try ChatTemplate(template: junk)
        }
        #expect(throws: TokenizerError.self) { try ChatTemplate(template: "") }
        // Phi-4 writes <|im_start|> but with its own <|im_sep|> separator: not ChatML.
        #expect(throws: TokenizerError.self) {
            try ChatTemplate(template: "{{ '<|im_start|>' + m.role + '<|im_sep|>' + m.content + '<|im_end|>' }}")
        }
        let long = String(repeating: "x", count: 200)
        #expect(ChatTemplate.excerpt(of: long) == String(repeating: "x", count: 80) + "…")
    }

    @Test func jinjaScannerFindsRawTextAndLiteralsButNotComments() {
        let literals = JinjaScanner.literalTexts(of: "raw {# 'hidden' #}{{ 'a\\'b' + \"c\\n\" }}{% if x %}tail")
        #expect(literals == ["raw ", "a'b", "c\n", "tail"])
    }
}
