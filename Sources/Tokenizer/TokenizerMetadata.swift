/// Read access to the `tokenizer.*` metadata of a model file. `GGUFFile` provides it (see
/// TokenizerGGUF.swift); tests provide it from a dictionary to reach every error path.
protocol TokenizerMetadata {
    func string(_ key: String) -> String?
    func int(_ key: String) -> Int?
    func bool(_ key: String) -> Bool?
    func stringArray(_ key: String) -> [String]?
    func intArray(_ key: String) -> [Int]?
}

/// The metadata keys the tokenizer reads, as llama.cpp names them.
enum TokenizerKey {
    static let model = "tokenizer.ggml.model"
    static let preTokenizer = "tokenizer.ggml.pre"
    static let tokens = "tokenizer.ggml.tokens"
    static let tokenTypes = "tokenizer.ggml.token_type"
    static let merges = "tokenizer.ggml.merges"
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
    /// Requires `tokenizer.ggml.model` = `gpt2`, a supported `tokenizer.ggml.pre`, the token and
    /// merge lists; token types, special ids and add-BOS/EOS flags are optional (absent flags are false).
    convenience init(metadata: some TokenizerMetadata) throws(TokenizerError) {
        guard let model = metadata.string(TokenizerKey.model) else { throw .missingMetadata(key: TokenizerKey.model) }
        guard model == "gpt2" else { throw .unsupportedModel(model) }
        guard let preName = metadata.string(TokenizerKey.preTokenizer) else {
            throw .missingMetadata(key: TokenizerKey.preTokenizer)
        }
        let preTokenizer = try PreTokenizer(ggufName: preName)
        guard let tokens = metadata.stringArray(TokenizerKey.tokens) else { throw .missingMetadata(key: TokenizerKey.tokens) }
        guard let merges = metadata.stringArray(TokenizerKey.merges) else { throw .missingMetadata(key: TokenizerKey.merges) }
        let special = SpecialTokens(
            bos: metadata.int(TokenizerKey.bos), eos: metadata.int(TokenizerKey.eos),
            unknown: metadata.int(TokenizerKey.unknown), padding: metadata.int(TokenizerKey.padding),
            endOfTurn: metadata.int(TokenizerKey.endOfTurn), endOfMessage: metadata.int(TokenizerKey.endOfMessage),
            addBOS: metadata.bool(TokenizerKey.addBOS) ?? false, addEOS: metadata.bool(TokenizerKey.addEOS) ?? false)
        try self.init(
            tokens: tokens, tokenTypes: metadata.intArray(TokenizerKey.tokenTypes) ?? [], merges: merges,
            preTokenizer: preTokenizer, special: special)
    }
}

extension ChatTemplate {
    /// Recognises the model's `tokenizer.chat_template` (the body of `init(gguf:)`).
    init(metadata: some TokenizerMetadata) throws(TokenizerError) {
        guard let source = metadata.string(TokenizerKey.chatTemplate) else {
            throw .missingMetadata(key: TokenizerKey.chatTemplate)
        }
        try self.init(template: source)
    }
}
