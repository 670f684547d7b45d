// The router's answer: a call of one catalogue tool with its arguments, or a refusal with a
// reason. Its canonical text is what the constrained decoder produces and what tests compare:
//
//   {"tool":"NAME","arguments":{...}}      {"tool":"no_tool","reason":"..."}

import JSON

/// A decoded tool call.
public enum ToolCall: Sendable, Equatable {
    /// Call the tool `name` with `arguments` (a JSON object, members in schema property order).
    case tool(name: String, arguments: JSONValue)
    /// Call no tool, for the given reason.
    case noTool(reason: String)

    /// The tool's name, or `no_tool`.
    public var toolName: String {
        switch self {
        case .tool(let name, _): return name
        case .noTool: return ToolCatalogue.noToolName
        }
    }

    /// The canonical compact JSON text: `{"tool":…,"arguments":…}` or `{"tool":"no_tool","reason":…}`.
    public var canonicalJSON: String { JSONWriter.compact(json) }

    /// The call as a JSON object, in canonical member order.
    public var json: JSONValue {
        switch self {
        case .tool(let name, let arguments):
            return .object([(key: "tool", value: .string(name)), (key: "arguments", value: arguments)])
        case .noTool(let reason):
            return .object([(key: "tool", value: .string(ToolCatalogue.noToolName)), (key: "reason", value: .string(reason))])
        }
    }

    /// Parses decoder output: an object whose first member is "tool", followed by exactly one
    /// more member, "arguments" (an object) for a catalogue tool or "reason" (a string) for
    /// "no_tool". Arguments are not checked against the tool's schema here; use `SchemaValidator`.
    public init(parsing text: String, catalogue: ToolCatalogue) throws(ToolCallError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw .invalidJSON(error)
        }
        try self.init(json: value, catalogue: catalogue)
    }

    /// Reads a call from a parsed JSON value, with the same rules as `init(parsing:catalogue:)`.
    public init(json value: JSONValue, catalogue: ToolCatalogue) throws(ToolCallError) {
        guard case .object(let members) = value else { throw .notAnObject(found: value.kindDescription) }
        guard let first = members.first, first.key == "tool" else {
            throw .toolNotFirst(firstKey: members.first?.key)
        }
        guard case .string(let name) = first.value else { throw .toolNotAString(found: first.value.kindDescription) }
        let isNoTool = name == ToolCatalogue.noToolName
        guard isNoTool || catalogue.tool(named: name) != nil else { throw .unknownTool(name) }
        let expectedKey = isNoTool ? "reason" : "arguments"
        guard members.count >= 2 else { throw .missingMember(expectedKey, tool: name) }
        let second = members[1]
        guard second.key == expectedKey else { throw .unexpectedMember(second.key, tool: name) }
        if members.count > 2 { throw .unexpectedMember(members[2].key, tool: name) }
        if isNoTool {
            guard case .string(let reason) = second.value else { throw .reasonNotAString(found: second.value.kindDescription) }
            self = .noTool(reason: reason)
        } else {
            guard case .object = second.value else {
                throw .argumentsNotAnObject(tool: name, found: second.value.kindDescription)
            }
            self = .tool(name: name, arguments: second.value)
        }
    }
}

/// Why decoder output is not a tool call.
public enum ToolCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text is not JSON.
    case invalidJSON(JSONParseError)
    /// The value is not an object.
    case notAnObject(found: String)
    /// The object's first member is not "tool" (nil: the object is empty).
    case toolNotFirst(firstKey: String?)
    /// "tool" is not a string.
    case toolNotAString(found: String)
    /// "tool" names neither a catalogue tool nor "no_tool".
    case unknownTool(String)
    /// The member the tool requires ("arguments" or "reason") is absent.
    case missingMember(String, tool: String)
    /// A member other than the one required, or one too many.
    case unexpectedMember(String, tool: String)
    /// "arguments" is not an object.
    case argumentsNotAnObject(tool: String, found: String)
    /// "reason" is not a string.
    case reasonNotAString(found: String)

    /// The problem in words.
    public var description: String {
        switch self {
        case .invalidJSON(let error): return "tool call is not valid JSON: \(error)"
        case .notAnObject(let found): return "tool call must be an object, found \(found)"
        case .toolNotFirst(nil): return "tool call is an empty object; expected \"tool\" first"
        case .toolNotFirst(let key?): return "tool call must start with \"tool\", found \(JSONWriter.quoted(key))"
        case .toolNotAString(let found): return "\"tool\" must be a string, found \(found)"
        case .unknownTool(let name): return "unknown tool \(JSONWriter.quoted(name))"
        case .missingMember(let key, let tool): return "call of \(JSONWriter.quoted(tool)) is missing \"\(key)\""
        case .unexpectedMember(let key, let tool): return "call of \(JSONWriter.quoted(tool)) has unexpected member \(JSONWriter.quoted(key))"
        case .argumentsNotAnObject(let tool, let found): return "arguments of \(JSONWriter.quoted(tool)) must be an object, found \(found)"
        case .reasonNotAString(let found): return "\"reason\" must be a string, found \(found)"
        }
    }
}

extension ToolCall: CustomStringConvertible {
    /// The canonical JSON text.
    public var description: String { canonicalJSON }
}
