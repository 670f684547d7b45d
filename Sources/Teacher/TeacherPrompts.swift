// What the teacher is asked. Two kinds of request, both answered as `{"rows": [{"prompt", "target"}]}`:
//
// - paraphrase: a batch of the user's examples; reword each request, keep its call identical, and
//   keep every value the call copies from the request written exactly as it is;
// - propose: new requests with their calls, aimed at the tools and optional arguments the examples
//   (and the rows kept so far) cover least, plus a few that must get no_tool.
//
// The catalogue is described property by property (type, required or not, enum, pattern, unit) rather
// than pasted as JSON: shorter for small-context servers, and it puts the conventions next to the
// arguments they apply to.

import JSON
import ToolCalls

/// Builds the chat messages and the answer schema for each kind of request.
enum TeacherPrompts {
    static let system = """
        You write training data for a tool router: user requests and the tool call each request should produce.
        Rules for arguments:
        - Identifiers (order ids, names, services, rooms, teams) and free text (reasons, titles, summaries, queries) are \
        copied from the request exactly as written, same case, free text without trailing punctuation.
        - Optional arguments appear only when the request states them.
        - Allowed conversions only: number words to digits, durations to the schema's unit, country names to 2-letter \
        codes, clock times to 24-hour HH:MM, "$5" to 5, "30%" to 30, enum values written with spaces for underscores.
        - A request that lacks a required value, a question, small talk, or an action no tool can do gets \
        {"tool": "no_tool", "reason": "<short reason>"}.
        Answer with JSON only: {"rows": [{"prompt": "...", "target": {"tool": "...", "arguments": {...}}}, ...]}
        """

    /// The catalogue, one tool a paragraph, one argument a line.
    static func describe(_ catalogue: ToolCatalogue) -> String {
        catalogue.tools.map { tool in
            let required = Set(tool.parameters["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let properties = tool.parameters["properties"]?.objectMembers ?? []
            var lines = ["\(tool.name): \(tool.description)"]
            for property in properties {
                lines.append("  - \(property.key) (\(propertySummary(property.value, required: required.contains(property.key))))")
            }
            if properties.isEmpty { lines.append("  (no arguments)") }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    private static func propertySummary(_ schema: JSONValue, required: Bool) -> String {
        var parts = [schema["type"]?.stringValue ?? "any", required ? "required" : "optional"]
        if let values = schema["enum"]?.arrayValue { parts.append("one of " + values.map(JSONWriter.compact).joined(separator: ", ")) }
        if let pattern = schema["pattern"]?.stringValue { parts.append("pattern \(pattern)") }
        if let format = schema["format"]?.stringValue { parts.append("format \(format)") }
        if let minimum = schema["minimum"] { parts.append("min \(JSONWriter.compact(minimum))") }
        if let maximum = schema["maximum"] { parts.append("max \(JSONWriter.compact(maximum))") }
        if schema["x-from-input"] == .bool(true) { parts.append("copied verbatim from the request") }
        if let description = schema["description"]?.stringValue, !description.isEmpty { parts.append(description) }
        return parts.joined(separator: "; ")
    }

    /// Asks for `perExample` rewordings of each row in `batch`.
    static func paraphrase(_ batch: [TeacherRow], perExample: Int, catalogue: ToolCatalogue) -> [ChatMessage] {
        let examples = batch.map(\.jsonLine).joined(separator: "\n")
        let user = """
            Tools:
            \(describe(catalogue))

            Example rows:
            \(examples)

            Write \(perExample) new wordings of each example request: a different sentence with the same meaning \
            (terse, polite, a question, a context sentence first, lowercase). Keep the target exactly as in the \
            example, and keep every argument value that the target copies from the request written in the new \
            request exactly as it is. One row per new wording, \(batch.count * perExample) rows in all.
            """
        return [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: user)]
    }

    /// Asks for `count` new rows, `noTool` of them no_tool, stressing `focus` tools and their optional arguments.
    static func propose(count: Int, noTool: Int, focus: [(tool: String, optionals: [String])], style: [TeacherRow],
                        catalogue: ToolCatalogue) -> [ChatMessage] {
        let focusLines = focus.map { item in
            item.optionals.isEmpty ? "- \(item.tool)" : "- \(item.tool), stating these optional arguments in some requests: \(item.optionals.joined(separator: ", "))"
        }.joined(separator: "\n")
        let user = """
            Tools:
            \(describe(catalogue))

            Example rows, for the style:
            \(style.map(\.jsonLine).joined(separator: "\n"))

            Write \(count) new rows that are not in the examples, with new values (other ids, names, numbers, texts). \
            Use mostly these tools:
            \(focusLines)
            \(noTool) of the rows must be requests that get no_tool: a question, small talk, an action none of the \
            tools can do, or a request for a tool that leaves out a required value.
            """
        return [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: user)]
    }

    /// The answer's JSON schema: an object with a `rows` array of 1 to `maxRows` rows (at least one, so a
    /// grammar-constrained server cannot take the shortest way out with an empty list). Arguments are
    /// any object: the per-tool schemas are checked afterwards, and a union of every tool's schema would
    /// make grammar-constrained servers slow to compile it for little gain.
    static func answerSchema(catalogue: ToolCatalogue, maxRows: Int) -> JSONValue {
        let names = catalogue.names + [ToolCatalogue.noToolName]
        let target: JSONValue = .object([
            ("type", .string("object")),
            ("properties", .object([
                ("tool", .object([("type", .string("string")), ("enum", .array(names.map(JSONValue.string)))])),
                ("arguments", .object([("type", .string("object"))])),
                ("reason", .object([("type", .string("string"))])),
            ])),
            ("required", .array([.string("tool")])),
        ])
        let row: JSONValue = .object([
            ("type", .string("object")),
            ("properties", .object([("prompt", .object([("type", .string("string"))])), ("target", target)])),
            ("required", .array([.string("prompt"), .string("target")])),
        ])
        return .object([
            ("type", .string("object")),
            ("properties", .object([
                ("rows", .object([("type", .string("array")), ("items", row),
                                  ("minItems", .number(JSONNumber(1))), ("maxItems", .number(JSONNumber(max(1, maxRows))))])),
            ])),
            ("required", .array([.string("rows")])),
        ])
    }
}
