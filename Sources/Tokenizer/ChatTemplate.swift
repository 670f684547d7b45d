/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user`, `assistant`, or any role the model knows.
    public var role: String
    /// The text of the turn, inserted verbatim.
    public var content: String

    /// Creates a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// A `system` message.
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    /// A `user` message.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    /// An `assistant` message.
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// A chat prompt format, recognised from a model's Jinja `tokenizer.chat_template` or named explicitly.
///
/// The Jinja is not executed: the template's family is recognised from its text, and the family's
/// format is rendered by Swift code. A template of no known family is an error, never a guess; so is
/// a model file without a template (Gemma 3 base files have none): the caller names the family instead
/// (`init(name:)`, `init(gguf:name:)`).
public enum ChatTemplate: Sendable, Equatable {
    /// ChatML (SmolLM2, Qwen…): each message is `<|im_start|>{role}\n{content}<|im_end|>\n`, and the
    /// generation prompt is `<|im_start|>assistant\n`. When `defaultSystemPrompt` is set, a system
    /// message with that text is put first whenever the first message is not a system message.
    case chatML(defaultSystemPrompt: String?)
    /// Llama 3: each message is `<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>`,
    /// the content trimmed of surrounding whitespace, and the generation prompt is
    /// `<|start_header_id|>assistant<|end_header_id|>\n\n`. The text holds no `<|begin_of_text|>`:
    /// Llama 3 vocabularies have `add_bos_token` set, so `encode` adds BOS (as llama.cpp does).
    case llama3
    /// Gemma (2 and 3): each message is `<start_of_turn>{role}\n{content}<end_of_turn>\n`, the role
    /// `assistant` written `model` and the content trimmed of surrounding whitespace; the generation
    /// prompt is `<start_of_turn>model\n`. Gemma has no system role: as in Google's template, a
    /// leading system message is written at the start of the first other turn, followed by a blank
    /// line (`<start_of_turn>user\n{system}\n\n{content}<end_of_turn>\n`); a system message alone
    /// renders as nothing. No `<bos>` in the text: Gemma vocabularies set `add_bos_token`.
    case gemma

    /// The names `init(name:)` accepts, for a model file whose template is missing or not recognised.
    public static let names = ["chatml", "llama3", "gemma"]

    /// The template family called `name` (`chatml`, `llama3` or `gemma`), chosen explicitly rather
    /// than recognised from the model file. ChatML chosen this way has no default system prompt.
    /// - Throws: `TokenizerError.unknownChatTemplateName` for any other name.
    public init(name: String) throws(TokenizerError) {
        switch name.lowercased() {
        case "chatml": self = .chatML(defaultSystemPrompt: nil)
        case "llama3": self = .llama3
        case "gemma": self = .gemma
        default: throw .unknownChatTemplateName(name)
        }
    }

    /// Recognises the family of a Jinja chat template.
    ///
    /// - ChatML: the template writes both `<|im_start|>` and `<|im_end|>` (and not Phi-4's
    ///   `<|im_sep|>`). A default system prompt is taken from a string of the template that reads
    ///   `<|im_start|>system\n…<|im_end|>` with no expression inside.
    /// - Llama 3: the template writes `<|start_header_id|>`, `<|end_header_id|>` and `<|eot_id|>`.
    /// - Gemma: the template writes `<start_of_turn>` and `<end_of_turn>`.
    /// - Throws: `TokenizerError.unknownChatTemplate` with the template's first characters otherwise.
    public init(template: String) throws(TokenizerError) {
        if template.contains("<|im_start|>") && template.contains("<|im_end|>") && !template.contains("<|im_sep|>") {
            self = .chatML(defaultSystemPrompt: ChatTemplate.chatMLDefaultSystemPrompt(in: template))
        } else if ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"].allSatisfy(template.contains) {
            self = .llama3
        } else if template.contains("<start_of_turn>") && template.contains("<end_of_turn>") {
            self = .gemma
        } else {
            throw .unknownChatTemplate(excerpt: ChatTemplate.excerpt(of: template))
        }
    }

    /// The control token that ends a turn (`<|im_end|>`, `<|eot_id|>`): what a trained reply ends with.
    public var endOfTurn: String {
        switch self {
        case .chatML: return "<|im_end|>"
        case .llama3: return "<|eot_id|>"
        case .gemma: return "<end_of_turn>"
        }
    }

    /// Renders `messages` as the model's prompt text (for display: to encode it, use `pieces` and
    /// `BPETokenizer.encode(_:)`, which keep control-token strings inside the messages as plain text).
    /// - Parameter addGenerationPrompt: whether to end with the header of an assistant turn.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        pieces(messages, addGenerationPrompt: addGenerationPrompt).renderedText
    }

    /// Renders `messages` as pieces: the template's control tokens apart from the roles and contents,
    /// which are text (never parsed for control tokens when encoded).
    /// - Parameter addGenerationPrompt: whether to end with the header of an assistant turn.
    public func pieces(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> [PromptPiece] {
        var out: [PromptPiece] = []
        switch self {
        case .chatML(let defaultSystemPrompt):
            let start = PromptPiece.control("<|im_start|>"), end = PromptPiece.control("<|im_end|>")
            if let defaultSystemPrompt, let first = messages.first, first.role != "system" {
                out += [start, .text("system\n"), .text(defaultSystemPrompt), end, .text("\n")]
            }
            for message in messages {
                out += [start, .text("\(message.role)\n"), .text(message.content), end, .text("\n")]
            }
            if addGenerationPrompt { out += [start, .text("assistant\n")] }
        case .llama3:
            let header = PromptPiece.control("<|start_header_id|>"), headerEnd = PromptPiece.control("<|end_header_id|>")
            for message in messages {
                out += [header, .text(message.role), headerEnd, .text("\n\n"), .text(message.content.trimmingWhitespace()),
                        .control("<|eot_id|>")]
            }
            if addGenerationPrompt { out += [header, .text("assistant"), headerEnd, .text("\n\n")] }
        case .gemma:
            let start = PromptPiece.control("<start_of_turn>"), end = PromptPiece.control("<end_of_turn>")
            var turns = messages[...]
            var firstPrefix = ""
            if let first = turns.first, first.role == "system" {
                firstPrefix = first.content + "\n\n"
                turns = turns.dropFirst()
            }
            for (index, message) in turns.enumerated() {
                let role = message.role == "assistant" ? "model" : message.role
                out += [start, .text(role + "\n"), .text(index == 0 ? firstPrefix : ""),
                        .text(message.content.trimmingWhitespace()), end, .text("\n")]
            }
            if addGenerationPrompt { out += [start, .text("model\n")] }
        }
        return out.coalesced
    }

    // MARK: Recognition helpers

    /// The text of a ChatML template's built-in system message, if it writes one as a constant.
    static func chatMLDefaultSystemPrompt(in template: String) -> String? {
        let opening = "<|im_start|>system\n"
        for literal in JinjaScanner.literalTexts(of: template) {
            guard let start = literal.firstRange(of: opening),
                  let end = literal[start.upperBound...].firstRange(of: "<|im_end|>")
            else { continue }
            let prompt = String(literal[start.upperBound..<end.lowerBound])
            if !prompt.isEmpty { return prompt }
        }
        return nil
    }

    /// The first characters of a template, on one line, for an error message.
    static func excerpt(of template: String) -> String {
        let flat = template.prefix(80).map { $0.isNewline ? " " : String($0) }.joined()
        return template.count > 80 ? flat + "…" : flat
    }
}

/// Just enough of Jinja's lexical structure to find the constant text a template can output.
enum JinjaScanner {
    /// The template's constant texts: the raw text between tags, and every quoted string literal
    /// inside `{{ … }}` and `{% … %}` tags, with `\n`, `\t`, `\\`, `\'` and `\"` unescaped.
    /// Comments (`{# … #}`) are skipped.
    static func literalTexts(of template: String) -> [String] {
        let scalars = Array(template.unicodeScalars)
        var literals: [String] = []
        var raw = String.UnicodeScalarView()
        var index = 0
        func flushRaw() {
            if !raw.isEmpty { literals.append(String(raw)) }
            raw = String.UnicodeScalarView()
        }
        while index < scalars.count {
            let closing = tagClosing(scalars, at: index)
            guard let closing else {
                raw.append(scalars[index])
                index += 1
                continue
            }
            flushRaw()
            index += 2
            let isComment = closing == "#"
            while index < scalars.count && !(scalars[index] == closing && next(scalars, index) == "}") {
                let scalar = scalars[index]
                if !isComment && (scalar == "'" || scalar == "\"") {
                    let (text, after) = stringLiteral(scalars, from: index + 1, quote: scalar)
                    literals.append(text)
                    index = after
                } else {
                    index += 1
                }
            }
            index += 2
        }
        flushRaw()
        return literals
    }

    /// If a tag opens at `index` (`{{`, `{%` or `{#`), the scalar that closes it before `}`.
    private static func tagClosing(_ scalars: [Unicode.Scalar], at index: Int) -> Unicode.Scalar? {
        guard scalars[index] == "{", let second = next(scalars, index) else { return nil }
        switch second {
        case "{": return "}"
        case "%": return "%"
        case "#": return "#"
        default: return nil
        }
    }

    private static func next(_ scalars: [Unicode.Scalar], _ index: Int) -> Unicode.Scalar? {
        index + 1 < scalars.count ? scalars[index + 1] : nil
    }

    /// Reads a string literal whose opening quote was just before `start`; returns its unescaped
    /// text and the index after its closing quote.
    private static func stringLiteral(
        _ scalars: [Unicode.Scalar], from start: Int, quote: Unicode.Scalar
    ) -> (String, Int) {
        var text = String.UnicodeScalarView()
        var index = start
        while index < scalars.count && scalars[index] != quote {
            if scalars[index] == "\\", let escaped = next(scalars, index) {
                switch escaped {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                default: text.append(escaped)
                }
                index += 2
            } else {
                text.append(scalars[index])
                index += 1
            }
        }
        return (String(text), index + 1)
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines (Jinja's `trim`).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
