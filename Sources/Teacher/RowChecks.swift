// The default verdict on a teacher row, built only from what the catalogue itself says: the call must
// satisfy the tool's schema, and every string argument that is not one of its schema's enum (or
// const) values must occur verbatim in the request. That second rule is the grounding rule of the
// argument conventions (identifiers and free text are copied from the message) applied to every
// string; it is stricter than the generator's checks, which also accept the documented conversions
// (9am → "09:00", Germany → "DE"), so a caller that has those checks should pass them instead.

import Foundation
import JSON
import ToolCalls

/// Stable reason categories used in verdicts and counts.
public enum RejectReason {
    /// The arguments break the tool's schema, or the tool is not in the catalogue.
    public static let schema = "schema"
    /// A string argument does not occur in the request.
    public static let notInRequest = "not_in_request"
    /// A no_tool row without a reason.
    public static let emptyReason = "empty_reason"
    /// The request repeats an example's or an earlier teacher row's.
    public static let duplicate = "duplicate"
}

/// The checks a teacher row must pass when the caller supplies none.
public enum RowChecks {
    /// The default verdict for rows routed with `catalogue`.
    public static func defaultVerdict(catalogue: ToolCatalogue) -> @Sendable (TeacherRow) -> RowVerdict {
        { row in verdict(row, catalogue: catalogue) }
    }

    /// Schema first (a call of an unknown tool is a schema rejection), then grounding.
    public static func verdict(_ row: TeacherRow, catalogue: ToolCatalogue) -> RowVerdict {
        switch row.call {
        case .noTool(let reason):
            if reason.trimmingWhitespace.isEmpty { return .reject(reason: RejectReason.emptyReason, detail: "no_tool row without a reason") }
            return .keep
        case .tool(let name, let arguments):
            if let issue = catalogue.validate(row.call, origin: .request(row.prompt)).first {
                return .reject(reason: RejectReason.schema, detail: "\(name)\(issue.instancePointer.isEmpty ? "" : " " + issue.instancePointer): \(issue.message)")
            }
            guard let tool = catalogue.tool(named: name) else {
                return .reject(reason: RejectReason.schema, detail: "unknown tool \(JSONWriter.quoted(name))")
            }
            for value in groundedStrings(in: arguments, schema: tool.parameters, pointer: "") where !row.prompt.contains(value.text) {
                return .reject(reason: RejectReason.notInRequest,
                               detail: "\(name) \(value.pointer) = \(JSONWriter.quoted(value.text)) does not occur in the request")
            }
            return .keep
        }
    }

    /// Every string in `value` that its schema does not list as an enum or const value, with its pointer.
    static func groundedStrings(in value: JSONValue, schema: JSONValue, pointer: String) -> [(pointer: String, text: String)] {
        switch value {
        case .string(let text):
            let listed = (schema["enum"]?.arrayValue ?? []) + (schema["const"].map { [$0] } ?? [])
            return listed.contains(.string(text)) ? [] : [(pointer, text)]
        case .object(let members):
            let properties = schema["properties"]
            return members.flatMap { member in
                groundedStrings(in: member.value, schema: properties?[member.key] ?? .bool(true), pointer: pointer + "/" + escaped(member.key))
            }
        case .array(let items):
            let itemSchema = schema["items"] ?? .bool(true)
            return items.enumerated().flatMap { groundedStrings(in: $0.element, schema: itemSchema, pointer: pointer + "/\($0.offset)") }
        default:
            return []
        }
    }

    /// A JSON pointer token (RFC 6901: "~" → "~0", "/" → "~1").
    private static func escaped(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
