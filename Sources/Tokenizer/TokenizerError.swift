/// Everything that can go wrong while loading a tokenizer, encoding, decoding or rendering a chat.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A metadata key the tokenizer needs is absent from the model file (or has the wrong type).
    case missingMetadata(key: String)
    /// `tokenizer.ggml.model` names a tokenizer family this package does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this package does not implement.
    case unsupportedPreTokenizer(String)
    /// The vocabulary tables disagree with each other (for example, fewer token types than tokens).
    case invalidVocabulary(String)
    /// Entry `index` of the merge list is not of the form `"left right"`.
    case invalidMerge(index: Int, text: String)
    /// A special-token id (BOS, EOS, …) from the metadata lies outside the vocabulary.
    case specialTokenOutOfRange(name: String, id: Int, vocabularySize: Int)
    /// A token id passed to a decoding or lookup function lies outside the vocabulary.
    case tokenIDOutOfRange(id: Int, vocabularySize: Int)
    /// The Jinja chat template is not one of the families this package can render.
    case unknownChatTemplate(excerpt: String)
    /// The model file has no chat template (`tokenizer.chat_template`) and none was named.
    case missingChatTemplate
    /// A chat template was named explicitly, but the name is none of `ChatTemplate.names`.
    case unknownChatTemplateName(String)

    public var description: String {
        switch self {
        case .missingMetadata(let key):
            return "tokenizer metadata key '\(key)' is missing or has the wrong type"
        case .unsupportedModel(let name):
            return "unsupported tokenizer model '\(name)' (implemented: 'gpt2' byte-level BPE, 'llama' SentencePiece)"
        case .unsupportedPreTokenizer(let name):
            return "unsupported pre-tokenizer '\(name)' (implemented: \(PreTokenizer.supportedNames.joined(separator: ", ")))"
        case .invalidVocabulary(let reason):
            return "invalid tokenizer vocabulary: \(reason)"
        case .invalidMerge(let index, let text):
            return "BPE merge #\(index) is malformed: '\(text)' (expected 'left right')"
        case .specialTokenOutOfRange(let name, let id, let size):
            return "special token \(name) has id \(id), outside the vocabulary of \(size) tokens"
        case .tokenIDOutOfRange(let id, let size):
            return "token id \(id) is outside the vocabulary of \(size) tokens"
        case .unknownChatTemplate(let excerpt):
            return "unrecognised chat template (not ChatML, Llama 3 or Gemma): \"\(excerpt)\"; "
                + ChatTemplate.explicitNameAdvice
        case .missingChatTemplate:
            return "the model file has no chat template (tokenizer.chat_template); " + ChatTemplate.explicitNameAdvice
        case .unknownChatTemplateName(let name):
            return "unknown chat template name '\(name)' (known: \(ChatTemplate.names.joined(separator: ", ")))"
        }
    }
}
