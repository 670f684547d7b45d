// The request prompt: a short system prompt naming the catalogue's tools, then the user's input.
//
// Short on purpose: the grammar enforces every schema, so the model needs only the tool names, their
// argument names and a one-line summary each. Fewer prompt tokens also make every request faster.
// Training data is rendered by this same code, so training and serving cannot drift.
//
// The user's input and the catalogue's text (tool names, argument names, descriptions) are untrusted:
// they are encoded as plain text (see `PromptPiece`), so a `<|im_end|>` written in them stays the
// characters `<|im_end|>` and cannot end a turn. Only the chat template's own control tokens are
// encoded as control tokens. Encode prompts with `encode(...)` / `encodeSplit(...)`, never by encoding the
// rendered string with special-token parsing on.

import JSON
import Tokenizer

/// Renders requests for a catalogue in the model's chat format.
public enum PromptRenderer {
    /// One line of instructions, then one line per tool: `name(arg, optional_arg?): summary`.
    public static func systemPrompt(for catalogue: ToolCatalogue) -> String {
        var lines = ["Route the request to one tool. Reply with JSON: {\"tool\": NAME, \"arguments\": {...}}, "
                     + "or {\"tool\": \"no_tool\", \"reason\": \"...\"} when no tool fits. Tools:"]
        for tool in catalogue.tools {
            lines.append("- \(tool.name)(\(argumentList(tool.parameters))): \(summary(tool.description))")
        }
        return lines.joined(separator: "\n")
    }

    /// The full prompt text (control tokens included) for `input`, ending where the assistant's reply begins.
    /// For display: encode with `encode(catalogue:input:template:tokenizer:)`.
    public static func render(catalogue: ToolCatalogue, input: String,
                              template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> String {
        pieces(catalogue: catalogue, input: input, template: template).renderedText
    }

    /// The full prompt as pieces: the template's control tokens, and the system prompt and input as text.
    public static func pieces(catalogue: ToolCatalogue, input: String,
                              template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> [PromptPiece] {
        template.pieces([.system(systemPrompt(for: catalogue)), .user(input)], addGenerationPrompt: true)
    }

    /// The prompt's token ids for `input`: control-token strings in the input or the catalogue are plain text.
    public static func encode(catalogue: ToolCatalogue, input: String, template: ChatTemplate = .chatML(defaultSystemPrompt: nil),
                              tokenizer: BPETokenizer) -> [Int] {
        tokenizer.encode(pieces(catalogue: catalogue, input: input, template: template))
    }

    /// The prompt's ids split at the end of the system turn, as `renderSplit` splits the text: the
    /// catalogue prefix's ids and the request part's ids (each encoded on its own, as the daemon does).
    public static func encodeSplit(catalogue: ToolCatalogue, input: String, template: ChatTemplate = .chatML(defaultSystemPrompt: nil),
                                   tokenizer: BPETokenizer) -> (prefix: [Int], request: [Int]) {
        let (prefix, request) = splitPieces(catalogue: catalogue, input: input, template: template)
        return (tokenizer.encode(prefix), tokenizer.encode(request))
    }

    /// Only the request part's ids of `encodeSplit` (what the daemon encodes per request: the prefix's ids
    /// are computed once, when the catalogue is loaded).
    public static func encodeRequest(catalogue: ToolCatalogue, input: String, template: ChatTemplate = .chatML(defaultSystemPrompt: nil),
                                     tokenizer: BPETokenizer) -> [Int] {
        tokenizer.encode(splitPieces(catalogue: catalogue, input: input, template: template).request)
    }

    /// The prompt's pieces split at the end of the system turn (all of them in `request` when the template
    /// does not start with the system turn alone).
    private static func splitPieces(catalogue: ToolCatalogue, input: String, template: ChatTemplate) -> (prefix: [PromptPiece], request: [PromptPiece]) {
        let whole = pieces(catalogue: catalogue, input: input, template: template)
        let prefix = template.pieces([.system(systemPrompt(for: catalogue))], addGenerationPrompt: false)
        guard whole.starts(with: prefix) else { return ([], whole) }
        return (prefix, Array(whole.dropFirst(prefix.count)))
    }

    /// The prompt split at the end of the system turn: the catalogue prefix (identical for every request,
    /// so its KV state can be computed once) and the request's own part.
    public static func renderSplit(catalogue: ToolCatalogue, input: String,
                                   template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> (prefix: String, request: String) {
        let whole = render(catalogue: catalogue, input: input, template: template)
        let prefix = template.render([.system(systemPrompt(for: catalogue))], addGenerationPrompt: false)
        guard whole.hasPrefix(prefix) else { return ("", whole) }
        return (prefix, String(whole.dropFirst(prefix.count)))
    }

    /// The text every request part starts with: the opening of the user turn (`<|im_start|>user\n` for
    /// ChatML), found by rendering a placeholder input. Its tokens can join the cached prefix when the
    /// request's tokens start with them (the caller checks; a leading space or newline in the input may
    /// merge across the boundary).
    public static func userTurnOpening(catalogue: ToolCatalogue, template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> String {
        let placeholder = "\u{1}"
        let request = renderSplit(catalogue: catalogue, input: placeholder, template: template).request
        guard let end = request.range(of: placeholder) else { return "" }
        return String(request[..<end.lowerBound])
    }

    /// `order_id, reason, amount?` — properties in schema order, optional ones marked.
    static func argumentList(_ parameters: JSONValue) -> String {
        let required = Set(parameters["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let names = parameters["properties"]?.objectMembers?.map(\.key) ?? []
        return names.map { required.contains($0) ? $0 : "\($0)?" }.joined(separator: ", ")
    }

    /// The description's first sentence, on one line.
    static func summary(_ description: String) -> String {
        let oneLine = description.split(whereSeparator: \.isNewline).joined(separator: " ")
        if let end = oneLine.range(of: ". ") { return String(oneLine[..<end.lowerBound]) + "." }
        return oneLine
    }
}
