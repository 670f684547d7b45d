// A small synthetic catalogue and rows shared by the Teacher tests.

import JSON
import Teacher
import ToolCalls

enum Fixture {
    /// Two tools: `refund` (a patterned id, free text, an enum, an integer) and `ping` (no arguments).
    static let catalogue: ToolCatalogue = parse("""
            [{"type": "function", "function": {"name": "refund", "description": "Refund an order.", "parameters": {
               "type": "object",
               "properties": {
                 "order_id": {"type": "string", "pattern": "^ORD-[0-9]{4}$"},
                 "reason": {"type": "string"},
                 "speed": {"type": "string", "enum": ["standard", "express"]},
                 "amount": {"type": "integer", "minimum": 1}},
               "required": ["order_id"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "ping", "description": "Check the service is up."}}]
            """)

    /// A catalogue from its JSON text (the fixtures are literals: a bad one is a bug in the test).
    static func parse(_ text: String) -> ToolCatalogue {
        do { return try ToolCatalogue(json: try JSONParser.parse(text)) } catch { preconditionFailure("fixture catalogue: \(error)") }
    }

    /// A row from its JSON line (the fixtures are literals: a bad one is a bug in the test).
    static func row(_ line: String) -> TeacherRow {
        do {
            let value = try JSONParser.parse(line)
            guard case .string(let prompt)? = value["prompt"], let target = value["target"] else { preconditionFailure("fixture row: \(line)") }
            return TeacherRow(prompt: prompt, call: try ToolCall(json: target, catalogue: catalogue), catalogue: catalogue)
        } catch { preconditionFailure("fixture row \(line): \(error)") }
    }

    static let examples: [TeacherRow] = [
        row(#"{"prompt": "refund ORD-1234 because it broke", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1234", "reason": "it broke"}}}"#),
        row(#"{"prompt": "is the service up?", "target": {"tool": "ping", "arguments": {}}}"#),
        row(#"{"prompt": "what's the weather", "target": {"tool": "no_tool", "reason": "no tool for that"}}"#),
    ]
}
