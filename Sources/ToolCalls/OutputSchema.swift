// The JSON Schema of every valid router answer for a catalogue, from which the grammar compiler
// builds the decoding grammar:
//
//   {"anyOf": [ {"type":"object","properties":{"tool":{"const":NAME},"arguments":PARAMETERS},
//                "required":["tool","arguments"],"additionalProperties":false}, ...,
//               {"type":"object","properties":{"tool":{"const":"no_tool"},"reason":{"type":"string","maxLength":N}},
//                "required":["tool","reason"],"additionalProperties":false} ]}
//
// A tool's parameters schema is its own document: its local `$ref`s ("#/$defs/x") mean its own
// root. Embedded at /anyOf/i/properties/arguments they are rewritten to point there.

import JSON

/// Which answers a request allows (after OpenAI's `tool_choice`): any tool or `no_tool`, any tool
/// but never `no_tool`, or one named tool.
public enum ToolChoice: Sendable, Hashable, CustomStringConvertible {
    /// The model decides: any tool of the catalogue, or `no_tool`.
    case auto
    /// The model must call one of the catalogue's tools.
    case required
    /// The model must call this tool; it only fills in the arguments.
    case tool(String)
    /// The model must not call a tool: the answer is `no_tool` with its reason (OpenAI's `"none"`).
    case none

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .required: return "required"
        case .tool(let name): return name
        case .none: return "none"
        }
    }
}

extension ToolCall {
    /// The JSON Schema that every valid answer for `catalogue` satisfies: an `anyOf` with one
    /// branch per tool the choice allows (in catalogue order; none for `.none`) and, for `.auto` and
    /// `.none`, a final "no_tool" branch whose reason is at most `maxReasonLength` characters. A choice naming a tool the
    /// catalogue lacks gives an `anyOf` with no branches (nothing is valid); check names first.
    public static func outputSchema(for catalogue: ToolCatalogue, choice: ToolChoice = .auto, maxReasonLength: Int = 200) -> JSONValue {
        var branches: [JSONValue] = []
        for tool in catalogue.tools where choice != .none {
            if case .tool(let only) = choice, only != tool.name { continue }
            let base = "/anyOf/\(branches.count)/properties/arguments"
            branches.append(branch(tool: tool.name, member: "arguments", schema: rebasingReferences(in: tool.parameters, onto: base)))
        }
        if choice == .auto || choice == .none {
            let reasonSchema: JSONValue = .object([
                (key: "type", value: .string("string")),
                (key: "maxLength", value: .number(JSONNumber(maxReasonLength))),
            ])
            branches.append(branch(tool: ToolCatalogue.noToolName, member: "reason", schema: reasonSchema))
        }
        return .object([(key: "anyOf", value: .array(branches))])
    }

    private static func branch(tool: String, member: String, schema: JSONValue) -> JSONValue {
        .object([
            (key: "type", value: .string("object")),
            (key: "properties", value: .object([
                (key: "tool", value: .object([(key: "const", value: .string(tool))])),
                (key: member, value: schema),
            ])),
            (key: "required", value: .array([.string("tool"), .string(member)])),
            (key: "additionalProperties", value: .bool(false)),
        ])
    }

    /// Keywords whose value is one subschema, a list of them, or a map of them.
    private static let singleSchemaKeywords: Set<String> = ["items", "additionalProperties", "not"]
    private static let schemaListKeywords: Set<String> = ["prefixItems", "allOf", "anyOf", "oneOf"]
    private static let schemaMapKeywords: Set<String> = ["properties", "$defs", "definitions"]

    /// `schema` with every local `$ref` ("#" or "#/...") moved under the pointer `base`. Only
    /// schema positions are visited, so `const`, `enum` and `default` values are never touched.
    static func rebasingReferences(in schema: JSONValue, onto base: String) -> JSONValue {
        guard case .object(let members) = schema else { return schema }
        return .object(members.map { member in
            let key = member.key
            let value = member.value
            if key == "$ref", case .string(let reference) = value, reference.hasPrefix("#") {
                return (key: key, value: .string("#" + base + reference.dropFirst()))
            }
            if singleSchemaKeywords.contains(key), case .object = value {
                return (key: key, value: rebasingReferences(in: value, onto: base))
            }
            if schemaListKeywords.contains(key) || key == "items", case .array(let list) = value {
                return (key: key, value: .array(list.map { rebasingReferences(in: $0, onto: base) }))
            }
            if schemaMapKeywords.contains(key), case .object(let map) = value {
                return (key: key, value: .object(map.map { (key: $0.key, value: rebasingReferences(in: $0.value, onto: base)) }))
            }
            return member
        })
    }
}
