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

    /// The prompt's ids in two parts, as `renderSplit` splits the text: the catalogue prefix's ids (with BOS
    /// when the model adds one) and the rest's ids. The cut is right after a control token, where the
    /// tokenizer starts a new fragment anyway, so `prefix + request` equals `encode(...)`'s ids exactly.
    public static func encodeSplit(catalogue: ToolCatalogue, input: String, template: ChatTemplate = .chatML(defaultSystemPrompt: nil),
                                   tokenizer: BPETokenizer) -> (prefix: [Int], request: [Int]) {
        let (prefix, request) = splitPieces(catalogue: catalogue, input: input, template: template)
        return (tokenizer.encode(prefix), tokenizer.encode(request, addSpecial: false))
    }

    /// Only the request part's ids of `encodeSplit` (what the daemon encodes per request: the prefix's ids
    /// are computed once, when the catalogue is loaded).
    public static func encodeRequest(catalogue: ToolCatalogue, input: String, template: ChatTemplate = .chatML(defaultSystemPrompt: nil),
                                     tokenizer: BPETokenizer) -> [Int] {
        tokenizer.encode(splitPieces(catalogue: catalogue, input: input, template: template).request, addSpecial: false)
    }

    /// The prompt split for caching: a prefix the same for every request (its KV state is computed once)
    /// and the request's part.
    ///
    /// The cut is after the last control token before the input: with ChatML, the `<|im_start|>` that opens
    /// the user turn (the system turn is in the prefix); with Gemma, which writes the system text inside
    /// the first user turn, that turn's `<start_of_turn>` (the system text goes with the request part,
    /// since its last tokens may merge with the input's; `userTurnOpening` recovers the cache for it).
    /// Everything is `request` when no control token comes before the input.
    public static func renderSplit(catalogue: ToolCatalogue, input: String,
                                   template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> (prefix: String, request: String) {
        let (prefix, request) = splitPieces(catalogue: catalogue, input: input, template: template)
        return (prefix.renderedText, request.renderedText)
    }

    /// The text every request part starts with, before the input: `user\n` for ChatML; for Gemma `user\n`,
    /// the system prompt and a blank line. Plain text (encode it with special-token parsing off). Its tokens
    /// can join the cached prefix when a request's tokens start with them (the caller checks: the input's
    /// first characters may merge with its last ones).
    public static func userTurnOpening(catalogue: ToolCatalogue, template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> String {
        let request = renderSplit(catalogue: catalogue, input: inputMarker, template: template).request
        guard let end = request.range(of: inputMarker) else { return "" }
        return String(request[..<end.lowerBound])
    }

    /// A stand-in input, to find where the input goes in a rendering.
    private static let inputMarker = "\u{1}"

    private static func splitPieces(catalogue: ToolCatalogue, input: String, template: ChatTemplate) -> (prefix: [PromptPiece], request: [PromptPiece]) {
        let whole = pieces(catalogue: catalogue, input: input, template: template)
        let probe = pieces(catalogue: catalogue, input: inputMarker, template: template)
        guard let inputPiece = probe.firstIndex(where: { if case .text(let text) = $0 { text.contains(inputMarker) } else { false } }),
              let lastControl = probe[..<inputPiece].lastIndex(where: { if case .control = $0 { true } else { false } })
        else { return ([], whole) }
        let prefix = Array(probe[...lastControl])
        guard whole.starts(with: prefix) else { return ([], whole) }
        return (prefix, Array(whole.dropFirst(prefix.count)))
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
