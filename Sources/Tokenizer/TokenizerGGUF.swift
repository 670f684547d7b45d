import GGUF

/// A GGUF file's metadata is tokenizer metadata; only `bool` is not among `GGUFFile`'s accessors.
extension GGUFFile: TokenizerMetadata {
    func bool(_ key: String) -> Bool? { self[key]?.boolValue }
}

extension BPETokenizer {
    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    ///
    /// - Throws: `TokenizerError.missingMetadata` if the model, pre-tokenizer, token or merge keys
    ///   are absent; `.unsupportedModel` unless `tokenizer.ggml.model` is `gpt2`;
    ///   `.unsupportedPreTokenizer` for a `tokenizer.ggml.pre` other than the ones `PreTokenizer`
    ///   implements; `.invalidVocabulary`, `.invalidMerge`, `.specialTokenOutOfRange` for
    ///   inconsistent tables.
    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        try self.init(metadata: gguf)
    }
}

extension ChatTemplate {
    /// Recognises the chat template stored in a GGUF file (`tokenizer.chat_template`).
    /// - Throws: `TokenizerError.missingMetadata` if the file has none, `.unknownChatTemplate` if
    ///   it is of no known family.
    public init(gguf: GGUFFile) throws(TokenizerError) {
        try self.init(metadata: gguf)
    }
}
