/// Read access to the `tokenizer.*` metadata of a model file. `GGUFFile` provides it (see
/// TokenizerGGUF.swift); tests provide it from a dictionary to reach every error path.
protocol TokenizerMetadata {
    func string(_ key: String) -> String?
    func int(_ key: String) -> Int?
    func bool(_ key: String) -> Bool?
    func stringArray(_ key: String) -> [String]?
    func intArray(_ key: String) -> [Int]?
    /// The value of `key` as floats, if it is an array of numbers.
    func floats(_ key: String) -> [Float]?
    /// Whether `key` is present, whatever its type.
    func contains(_ key: String) -> Bool
}

/// The metadata keys the tokenizer reads, as llama.cpp names them.
enum TokenizerKey {
    static let model = "tokenizer.ggml.model"
    static let preTokenizer = "tokenizer.ggml.pre"
    static let tokens = "tokenizer.ggml.tokens"
    static let tokenTypes = "tokenizer.ggml.token_type"
    static let merges = "tokenizer.ggml.merges"
    static let scores = "tokenizer.ggml.scores"
    static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    static let bos = "tokenizer.ggml.bos_token_id"
    static let eos = "tokenizer.ggml.eos_token_id"
    static let unknown = "tokenizer.ggml.unknown_token_id"
    static let padding = "tokenizer.ggml.padding_token_id"
    static let endOfTurn = "tokenizer.ggml.eot_token_id"
    static let endOfMessage = "tokenizer.ggml.eom_token_id"
    static let addBOS = "tokenizer.ggml.add_bos_token"
    static let addEOS = "tokenizer.ggml.add_eos_token"
    static let chatTemplate = "tokenizer.chat_template"
}

extension BPETokenizer {
    /// Builds the tokenizer from model metadata (the body of `init(gguf:)`).
    ///
    /// - `gpt2` (byte-level BPE) requires a supported `tokenizer.ggml.pre`, the token and merge lists.
    /// - `llama` (SentencePiece) requires the token list; scores are optional (all zero, as llama.cpp
    ///   reads them), and so is `tokenizer.ggml.pre` (only `default`, or none, is accepted).
    ///
    /// Token types, special ids and flags are optional. Absent flags and ids take llama.cpp's defaults:
    /// nothing and false for `gpt2`; BOS 1, EOS 2, unknown 0, add-BOS and add-space-prefix true for `llama`.
    convenience init(metadata: some TokenizerMetadata) throws(TokenizerError) {
        guard let model = metadata.string(TokenizerKey.model) else { throw .missingMetadata(key: TokenizerKey.model) }
        guard let tokens = metadata.stringArray(TokenizerKey.tokens) else { throw .missingMetadata(key: TokenizerKey.tokens) }
        let tokenTypes = metadata.intArray(TokenizerKey.tokenTypes) ?? []
        switch model {
        case "gpt2":
            guard let preName = metadata.string(TokenizerKey.preTokenizer) else {
                throw .missingMetadata(key: TokenizerKey.preTokenizer)
            }
            let preTokenizer = try PreTokenizer(ggufName: preName)
            guard let merges = metadata.stringArray(TokenizerKey.merges) else { throw .missingMetadata(key: TokenizerKey.merges) }
            let special = SpecialTokens(metadata: metadata, defaults: SpecialTokens())
            try self.init(tokens: tokens, tokenTypes: tokenTypes, merges: merges, preTokenizer: preTokenizer, special: special)
        case "llama":
            if let preName = metadata.string(TokenizerKey.preTokenizer), preName != "default" {
                throw .unsupportedPreTokenizer(preName)
            }
            let scores = metadata.floats(TokenizerKey.scores) ?? []
            if scores.isEmpty && metadata.contains(TokenizerKey.scores) {
                throw .missingMetadata(key: TokenizerKey.scores)  // present, but not numbers
            }
            let special = SpecialTokens(metadata: metadata, defaults: SpecialTokens(bos: 1, eos: 2, unknown: 0, addBOS: true))
            try self.init(
                tokens: tokens, tokenTypes: tokenTypes, scores: scores,
                addSpacePrefix: metadata.bool(TokenizerKey.addSpacePrefix) ?? true, special: special)
        default:
            throw .unsupportedModel(model)
        }
    }
}

extension SpecialTokens {
    /// The special ids and flags of the metadata, each absent one taken from `defaults`.
    init(metadata: some TokenizerMetadata, defaults: SpecialTokens) {
        self.init(
            bos: metadata.int(TokenizerKey.bos) ?? defaults.bos, eos: metadata.int(TokenizerKey.eos) ?? defaults.eos,
            unknown: metadata.int(TokenizerKey.unknown) ?? defaults.unknown,
            padding: metadata.int(TokenizerKey.padding) ?? defaults.padding,
            endOfTurn: metadata.int(TokenizerKey.endOfTurn) ?? defaults.endOfTurn,
            endOfMessage: metadata.int(TokenizerKey.endOfMessage) ?? defaults.endOfMessage,
            addBOS: metadata.bool(TokenizerKey.addBOS) ?? defaults.addBOS,
            addEOS: metadata.bool(TokenizerKey.addEOS) ?? defaults.addEOS)
    }
}

extension ChatTemplate {
    /// The chat template named `name` if given, else the one recognised from the model's
    /// `tokenizer.chat_template` (the body of `init(gguf:name:)`).
    init(metadata: some TokenizerMetadata, name: String? = nil) throws(TokenizerError) {
        if let name {
            try self.init(name: name)
            return
        }
        guard let source = metadata.string(TokenizerKey.chatTemplate) else { throw .missingChatTemplate }
        try self.init(template: source)
    }

    /// What to do when the model's template cannot be used, for error messages.
    static var explicitNameAdvice: String {
        "name the template explicitly (--chat-template NAME; names: \(names.joined(separator: ", ")))"
    }
}
