// Reading one row object. Teachers are sloppy in predictable ways, so the reader accepts the
// common variants of the row shape and normalises them:
//
//   {"prompt": P, "target": {"tool": T, "arguments": {…}}}     the examples files' format
//   {"prompt": P, "target": {"name": T, "arguments": "{…}"}}   OpenAI function-call style (arguments as text)
//   {"prompt": P, "tool": T, "arguments": {…}}                 the call flattened into the row
//   {"request": P, "call": {…}}                                other names for the two members
//
// What it cannot read is "unparseable", with a reason; what it reads is judged later by the verdict
// (an unknown tool name is read here and refused there, so it is counted as a rejection by reason).

import JSON
import ToolCalls

/// A JSON value that is not a row, and why.
public struct RowShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON pointer (within the row) of the problem.
    public let pointer: String
    /// What is wrong there.
    public let message: String

    /// `pointer: message`.
    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

enum RowReader {
    /// Reads a row from a JSON value in any of the accepted shapes.
    static func row(from value: JSONValue, catalogue: ToolCatalogue) throws(RowShapeError) -> TeacherRow {
        guard case .object = value else { throw RowShapeError(pointer: "", message: "a row must be an object, found \(value.kindName)") }
        guard let (promptKey, promptValue) = firstMember(of: value, named: ["prompt", "request", "input", "text"]) else {
            throw RowShapeError(pointer: "", message: "missing \"prompt\"")
        }
        guard case .string(let prompt) = promptValue else {
            throw RowShapeError(pointer: "/\(promptKey)", message: "must be a string, found \(promptValue.kindName)")
        }
        guard !prompt.trimmingWhitespace.isEmpty else { throw RowShapeError(pointer: "/\(promptKey)", message: "empty request") }
        let (targetPointer, target): (String, JSONValue)
        if let (key, nested) = firstMember(of: value, named: ["target", "call", "output"]) {
            (targetPointer, target) = ("/\(key)", nested)
        } else {
            (targetPointer, target) = ("", value)
        }
        let call = try self.call(from: target, pointer: targetPointer)
        return TeacherRow(prompt: prompt.trimmingWhitespace, call: call, catalogue: catalogue)
    }

    /// Reads a call from `{"tool"|"name": T, "arguments": {…} | "{…}"}` or `{"tool": "no_tool", "reason": R}`.
    static func call(from target: JSONValue, pointer: String) throws(RowShapeError) -> ToolCall {
        guard case .object = target else { throw RowShapeError(pointer: pointer, message: "the call must be an object, found \(target.kindName)") }
        guard let (toolKey, toolValue) = firstMember(of: target, named: ["tool", "name", "function"]) else {
            throw RowShapeError(pointer: pointer, message: "missing \"tool\"")
        }
        guard case .string(let name) = toolValue else {
            throw RowShapeError(pointer: "\(pointer)/\(toolKey)", message: "must be a string, found \(toolValue.kindName)")
        }
        if name == ToolCatalogue.noToolName {
            guard let reason = target["reason"] else { throw RowShapeError(pointer: pointer, message: "no_tool without \"reason\"") }
            guard case .string(let text) = reason else {
                throw RowShapeError(pointer: "\(pointer)/reason", message: "must be a string, found \(reason.kindName)")
            }
            return .noTool(reason: text)
        }
        // A tool without parameters may come back with no "arguments" at all; that is the empty object.
        let arguments = target["arguments"] ?? target["parameters"] ?? .object([])
        switch arguments {
        case .object:
            return .tool(name: name, arguments: arguments)
        case .string(let text):
            // OpenAI's function calls carry the arguments as JSON text.
            guard let parsed = try? JSONParser.parse(text), case .object = parsed else {
                throw RowShapeError(pointer: "\(pointer)/arguments", message: "arguments text is not a JSON object")
            }
            return .tool(name: name, arguments: parsed)
        default:
            throw RowShapeError(pointer: "\(pointer)/arguments", message: "must be an object, found \(arguments.kindName)")
        }
    }

    private static func firstMember(of value: JSONValue, named keys: [String]) -> (String, JSONValue)? {
        for key in keys { if let member = value[key] { return (key, member) } }
        return nil
    }
}

extension JSONValue {
    /// The kind of value, for messages ("an object", "a string", …).
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines.
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...end])
    }
}
