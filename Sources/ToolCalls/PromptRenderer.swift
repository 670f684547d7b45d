// The request prompt: a short system prompt naming the catalogue's tools, then the user's input.
//
// Short on purpose: the grammar enforces every schema, so the model needs only the tool names, their
// argument names and a one-line summary each. Fewer prompt tokens also make every request faster.
// Training data is rendered by this same code, so training and serving cannot drift.

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
    public static func render(catalogue: ToolCatalogue, input: String,
                              template: ChatTemplate = .chatML(defaultSystemPrompt: nil)) -> String {
        template.render([.system(systemPrompt(for: catalogue)), .user(input)], addGenerationPrompt: true)
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
