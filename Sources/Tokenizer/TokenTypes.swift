/// The kind of a vocabulary entry, as stored in `tokenizer.ggml.token_type` (llama.cpp's numbering).
public enum TokenType: Int, Sendable, CaseIterable {
    /// Ordinary text; its vocabulary string is in the GPT-2 byte-level alphabet (`gpt2` models) or
    /// has "▁" for spaces (SentencePiece, `llama` models).
    case normal = 1
    /// The unknown token.
    case unknown = 2
    /// A control token (`<|im_start|>`, `<|endoftext|>`…): matched in text only when asked for.
    case control = 3
    /// An added token written in clear; matched in text before BPE, always.
    case userDefined = 4
    /// A slot that is never produced.
    case unused = 5
    /// A raw byte token (`<0x0A>`), as in SentencePiece vocabularies.
    case byte = 6

    /// Whether text containing this token's string may be replaced by the token before BPE runs.
    var isMatchedInText: Bool { self == .control || self == .userDefined || self == .unknown }
}

/// Ids of the special tokens and the flags that say which are added around encoded text.
public struct SpecialTokens: Sendable, Equatable {
    /// Beginning of sequence (`tokenizer.ggml.bos_token_id`).
    public var bos: Int?
    /// End of sequence (`tokenizer.ggml.eos_token_id`).
    public var eos: Int?
    /// Unknown token (`tokenizer.ggml.unknown_token_id`).
    public var unknown: Int?
    /// Padding token (`tokenizer.ggml.padding_token_id`).
    public var padding: Int?
    /// End of turn (`tokenizer.ggml.eot_token_id`), when the model declares one.
    public var endOfTurn: Int?
    /// End of message (`tokenizer.ggml.eom_token_id`), when the model declares one.
    public var endOfMessage: Int?
    /// Whether `encode` puts `bos` in front (`tokenizer.ggml.add_bos_token`).
    public var addBOS: Bool
    /// Whether `encode` puts `eos` at the end (`tokenizer.ggml.add_eos_token`).
    public var addEOS: Bool

    /// Creates a special-token description; every id defaults to "none" and nothing is added.
    public init(
        bos: Int? = nil, eos: Int? = nil, unknown: Int? = nil, padding: Int? = nil,
        endOfTurn: Int? = nil, endOfMessage: Int? = nil, addBOS: Bool = false, addEOS: Bool = false
    ) {
        self.bos = bos
        self.eos = eos
        self.unknown = unknown
        self.padding = padding
        self.endOfTurn = endOfTurn
        self.endOfMessage = endOfMessage
        self.addBOS = addBOS
        self.addEOS = addEOS
    }

    /// The ids with their metadata names, for range checks and messages.
    var named: [(name: String, id: Int?)] {
        [("bos", bos), ("eos", eos), ("unknown", unknown), ("padding", padding),
         ("eot", endOfTurn), ("eom", endOfMessage)]
    }

    /// Token strings that end generation wherever they occur in a vocabulary (llama.cpp's list).
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
        "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
    ]
}
