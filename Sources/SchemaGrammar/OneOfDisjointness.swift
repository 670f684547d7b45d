// When may `oneOf` be compiled? Only when no value can match two of its branches, decided from
// what each branch pins down: its JSON types, its constant value, or a required property's constant.
// Every pair is compared, so the work grows with the square of the branch count: each branch's types
// and constants are worked out once, and a `oneOf` of more than `maxBranches` is refused (a 20,000-
// branch `oneOf` in a catalogue took five minutes to check).

import JSON

enum OneOfDisjointness {
    /// The most branches a `oneOf` may have (about half a million pairs to compare).
    static let maxBranches = 1_000

    /// The first pair of branches (by index) that might both match one value, or nil when every pair
    /// is provably disjoint. `resolve` looks up a local `$ref`.
    static func overlappingPair(_ branches: [JSONValue], resolve: (JSONValue) -> JSONValue?) -> (Int, Int)? {
        let summaries = branches.map { branch in
            let schema = dereference(branch, resolve: resolve)
            return (types: types(schema, resolve: resolve, depth: 0), constants: constants(schema).map(Set.init))
        }
        for i in branches.indices {
            for j in branches.indices where j > i {
                if summaries[i].types.isDisjoint(with: summaries[j].types) { continue }
                if let x = summaries[i].constants, let y = summaries[j].constants, x.isDisjoint(with: y) { continue }
                if !disjoint(branches[i], branches[j], resolve: resolve, depth: 0) { return (i, j) }
            }
        }
        return nil
    }

    private static let allTypes: Set<String> = ["null", "boolean", "number", "string", "array", "object"]

    /// True when no value can match both schemas (false when unsure).
    static func disjoint(_ a: JSONValue, _ b: JSONValue, resolve: (JSONValue) -> JSONValue?, depth: Int) -> Bool {
        guard depth < 8 else { return false }
        let a = dereference(a, resolve: resolve), b = dereference(b, resolve: resolve)
        if types(a, resolve: resolve, depth: depth).isDisjoint(with: types(b, resolve: resolve, depth: depth)) { return true }
        if let x = constants(a), let y = constants(b), Set(x).isDisjoint(with: Set(y)) { return true }
        // Objects told apart by a property both require, with constants that differ (e.g. a tool name).
        let requiredA = Set(a["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let requiredB = Set(b["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        for key in requiredA.intersection(requiredB) {
            if let pa = a["properties"]?[key], let pb = b["properties"]?[key], disjoint(pa, pb, resolve: resolve, depth: depth + 1) {
                return true
            }
        }
        return false
    }

    private static func dereference(_ schema: JSONValue, resolve: (JSONValue) -> JSONValue?) -> JSONValue {
        if let ref = schema["$ref"], let target = resolve(ref) { return target }
        return schema
    }

    /// The JSON types a schema's values can have ("integer" counts as "number").
    private static func types(_ schema: JSONValue, resolve: (JSONValue) -> JSONValue?, depth: Int) -> Set<String> {
        if let values = constants(schema) { return Set(values.map(typeName)) }
        var result = allTypes
        if let type = schema["type"] {
            let names = type.stringValue.map { [$0] } ?? type.arrayValue?.compactMap(\.stringValue) ?? []
            result = Set(names.map { $0 == "integer" ? "number" : $0 })
        }
        for keyword in ["anyOf", "oneOf"] {
            if let branches = schema[keyword]?.arrayValue, depth < 8 {
                let union = branches.reduce(into: Set<String>()) { $0.formUnion(types(dereference($1, resolve: resolve), resolve: resolve, depth: depth + 1)) }
                result.formIntersection(union)
            }
        }
        return result
    }

    /// The only values a schema allows (`const`, or `enum`), as canonical text; nil when not pinned.
    private static func constants(_ schema: JSONValue) -> [String]? {
        if let value = schema["const"] { return [CompactJSON.serialize(value)] }
        if let values = schema["enum"]?.arrayValue { return values.map(CompactJSON.serialize) }
        return nil
    }

    private static func typeName(_ text: String) -> String {
        switch text.first {
        case "n": return "null"
        case "t", "f": return "boolean"
        case "\"": return "string"
        case "[": return "array"
        case "{": return "object"
        default: return "number"
        }
    }
}
