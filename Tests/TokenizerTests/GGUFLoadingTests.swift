import GGUF
import Testing
@testable import Tokenizer

/// `BPETokenizer(gguf:)` and `ChatTemplate(gguf:)` on small GGUF files made in memory.
@Suite struct GGUFLoadingTests {
    /// A GGUF file with a four-token vocabulary, with `change` applied to its metadata first.
    private func file(_ change: (inout [String: GGUFValue]) -> Void = { _ in }) throws -> GGUFFile {
        var metadata: [String: GGUFValue] = [
            "general.architecture": .string("llama"),
            TokenizerKey.model: .string("gpt2"),
            TokenizerKey.preTokenizer: .string("smollm"),
            TokenizerKey.tokens: .array(["a", "b", "ab", "<s>"].map(GGUFValue.string)),
            TokenizerKey.tokenTypes: .array([1, 1, 1, 3].map(GGUFValue.int32)),
            TokenizerKey.merges: .array([.string("a b")]),
            TokenizerKey.bos: .uint32(3),
            TokenizerKey.eos: .uint32(3),
            TokenizerKey.addBOS: .bool(true),
            TokenizerKey.chatTemplate: .string("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"),
        ]
        change(&metadata)
        var writer = GGUFWriter()
        for key in metadata.keys.sorted() {
            if let value = metadata[key] { writer.addMetadata(key, value) }
        }
        return try GGUFFile(bytes: writer.serialize())
    }

    @Test func readsTokensMergesSpecialIDsAndTheAddBOSFlag() throws {
        let tokenizer = try BPETokenizer(gguf: file())
        #expect(tokenizer.vocabularySize == 4)
        #expect(tokenizer.bosID == 3)
        #expect(tokenizer.special.addBOS)
        #expect(tokenizer.encode("abab", parseSpecial: true) == [3, 2, 2])
        #expect(tokenizer.isControl(3))
        #expect(try ChatTemplate(gguf: file()) == .chatML(defaultSystemPrompt: nil))
    }

    @Test func refusesWhatItCannotTokenizeFaithfully() throws {
        #expect(throws: TokenizerError.unsupportedPreTokenizer("llama-bpe")) {
            try BPETokenizer(gguf: file { $0[TokenizerKey.preTokenizer] = .string("llama-bpe") })
        }
        #expect(throws: TokenizerError.unsupportedModel("bert")) {
            try BPETokenizer(gguf: file { $0[TokenizerKey.model] = .string("bert") })
        }
        #expect(throws: TokenizerError.missingMetadata(key: TokenizerKey.merges)) {
            try BPETokenizer(gguf: file { $0[TokenizerKey.merges] = nil })
        }
        // Merges stored as something other than strings count as missing.
        #expect(throws: TokenizerError.missingMetadata(key: TokenizerKey.merges)) {
            try BPETokenizer(gguf: file { $0[TokenizerKey.merges] = .array([.uint8(1)]) })
        }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "eos", id: 99, vocabularySize: 4)) {
            try BPETokenizer(gguf: file { $0[TokenizerKey.eos] = .uint32(99) })
        }
        #expect(throws: TokenizerError.missingChatTemplate) {
            try ChatTemplate(gguf: file { $0[TokenizerKey.chatTemplate] = nil })
        }
    }

    @Test func theModelFileLoadsWithItsChatTemplate() throws {
        let file = try TestModel.open()
        #expect(file.string(TokenizerKey.model) == "gpt2")
        #expect(file.string(TokenizerKey.preTokenizer) == "smollm")
        #expect(file.stringArray(TokenizerKey.merges)?.count == 48_900)
        let tokenizer = try BPETokenizer(gguf: file)
        #expect(tokenizer.vocabularySize == 49_152)
        guard case .chatML(let prompt?) = try ChatTemplate(gguf: file) else {
            Issue.record("expected ChatML with a default system prompt")
            return
        }
        #expect(prompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }
}
