// `array` with `items`, `prefixItems`, `minItems`, `maxItems`. Compact form: `[a,b,c]`.
// Without `maxItems` the default maximum applies. After `prefixItems`, an absent `items`
// admits no further items (fail closed), as does `items: false`.

import Grammar
import JSON

extension Compiler {
    /// The grammar of the arrays `schema` admits.
    mutating func compileArray(_ schema: JSONValue, at pointer: String, name: String) throws(SchemaCompileError) -> GrammarExpr {
        let minItems = try length(schema, "minItems", at: pointer) ?? 0
        var maxItems = try length(schema, "maxItems", at: pointer) ?? options.defaultMaxItems

        var prefix: [GrammarExpr] = []
        if let prefixItems = schema["prefixItems"] {
            let listPointer = JSONPointer.appending(pointer, "prefixItems")
            guard let list = prefixItems.arrayValue else {
                throw .invalidSchema(pointer: listPointer, reason: "prefixItems must be an array of schemas")
            }
            for (index, item) in list.enumerated() {
                prefix.append(try ruleFor(item, at: JSONPointer.appending(listPointer, index), hint: "\(name)-item-\(index)"))
            }
        }
        var rest: GrammarExpr?
        switch schema["items"] {
        case nil: rest = prefix.isEmpty ? .ruleRef(JSONPrimitives.value) : nil
        case .bool(false)?: rest = nil
        case .array?:
            throw .unsupportedKeyword(keyword: "items", pointer: JSONPointer.appending(pointer, "items"))
        case let items?:
            rest = try ruleFor(items, at: JSONPointer.appending(pointer, "items"), hint: "\(name)-item")
        }
        if rest == nil { maxItems = min(maxItems, prefix.count) }
        if minItems > maxItems {
            throw .invalidSchema(pointer: pointer, reason: "minItems \(minItems) exceeds the items allowed (\(maxItems))")
        }
        if maxItems == 0 { return .literal("[]") }

        // Element i (0-based) is prefix[i] or the rest schema; after k elements, element k+1
        // follows with a comma, required while k < minItems.
        func element(_ i: Int) -> GrammarExpr { i < prefix.count ? prefix[i] : (rest ?? .sequence([])) }
        func tail(after count: Int) -> GrammarExpr {
            if count >= maxItems { return .sequence([]) }
            if count >= prefix.count, let rest {
                return .repeat(.sequence([.literal(","), rest]), min: max(0, minItems - count), max: maxItems - count)
            }
            let next = simplified(.sequence([.literal(","), element(count), tail(after: count + 1)]))
            return count < minItems ? next : .repeat(next, min: 0, max: 1)
        }
        let items = simplified(.sequence([element(0), tail(after: 1)]))
        let body = minItems > 0 ? items : .repeat(items, min: 0, max: 1)
        return simplified(.sequence([.literal("["), body, .literal("]")]))
    }
}
