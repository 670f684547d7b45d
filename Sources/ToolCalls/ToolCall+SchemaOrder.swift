// Putting a call's arguments in the order the grammar produces them: object members follow the
// schema's `properties` order, at every depth. Training targets and gold rows are written by people
// in any order; the decoder can only emit schema order, so targets are reordered before use.

import JSON

extension ToolCall {
    /// This call with every object's members in its schema's `properties` order (members the schema
    /// does not list keep their relative order, after the listed ones). `no_tool` is unchanged.
    public func inSchemaOrder(catalogue: ToolCatalogue) -> ToolCall {
        guard case .tool(let name, let arguments) = self, let tool = catalogue.tool(named: name) else { return self }
        return .tool(name: name, arguments: Self.reorder(arguments, schema: tool.parameters))
    }

    static func reorder(_ value: JSONValue, schema: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            let properties = schema["properties"]?.objectMembers ?? []
            var remaining = members
            var ordered: [(key: String, value: JSONValue)] = []
            for property in properties {
                guard let index = remaining.firstIndex(where: { $0.key == property.key }) else { continue }
                let member = remaining.remove(at: index)
                ordered.append((member.key, reorder(member.value, schema: property.value)))
            }
            return .object(ordered + remaining)
        case .array(let items):
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.map { reorder($0, schema: itemSchema) })
        default:
            return value
        }
    }
}
