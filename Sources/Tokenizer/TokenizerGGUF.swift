import GGUF

/// A GGUF file's metadata is tokenizer metadata; `bool`, `floats` and `contains` are not among
/// `GGUFFile`'s accessors.
extension GGUFFile: TokenizerMetadata {
    func bool(_ key: String) -> Bool? { self[key]?.boolValue }

    func floats(_ key: String) -> [Float]? {
        guard let elements = self[key]?.arrayValue else { return nil }
        var values: [Float] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            switch element {
            case .float32(let value): values.append(value)
            default:
                guard let value = element.floatValue ?? element.intValue.map(Double.init) else { return nil }
                values.append(Float(value))
            }
        }
        return values
    }

    func contains(_ key: String) -> Bool { self[key] != nil }
}

extension BPETokenizer {
    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    ///
    /// `tokenizer.ggml.model` = `gpt2` gives a byte-level BPE tokenizer, `llama` a SentencePiece one
    /// (see `init(metadata:)` in TokenizerMetadata.swift for the keys each reads and their defaults).
    ///
    /// - Throws: `TokenizerError.missingMetadata` if the model or token keys are absent (and, for
    ///   `gpt2`, the pre-tokenizer or merge keys) or a key has the wrong type; `.unsupportedModel`
    ///   unless `tokenizer.ggml.model` is `gpt2` or `llama`; `.unsupportedPreTokenizer` for a
    ///   `tokenizer.ggml.pre` other than the ones `PreTokenizer` implements (`default` for `llama`);
    ///   `.invalidVocabulary`, `.invalidMerge`, `.specialTokenOutOfRange` for inconsistent tables.
    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        try self.init(metadata: gguf)
    }
}

extension ChatTemplate {
    /// The chat template of a model: the one named `name` (`chatml`, `llama3`, `gemma`) if given, else
    /// the one recognised from the GGUF file's `tokenizer.chat_template`.
    /// - Throws: `TokenizerError.unknownChatTemplateName` for a name it does not know;
    ///   `.missingChatTemplate` if no name is given and the file has no template;
    ///   `.unknownChatTemplate` if the file's template is of no known family. The last two say to
    ///   name the template explicitly.
    public init(gguf: GGUFFile, name: String? = nil) throws(TokenizerError) {
        try self.init(metadata: gguf, name: name)
    }
}
