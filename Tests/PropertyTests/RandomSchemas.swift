// A random generator of JSON Schemas over the keywords the compiler supports.

import JSON
import TestSupport

/// Builds random schemas from a seeded generator; every schema it makes is one the compiler must accept.
struct RandomSchemas {
    var rng: SeededRandom
    private var definitions: [(String, JSONValue)] = []

    init(seed: UInt64) { rng = SeededRandom(state: seed) }

    private static func n(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
    private static func s(_ v: String) -> JSONValue { .string(v) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    /// A whole schema: sometimes with `$defs` referenced from inside.
    mutating func schema() -> JSONValue {
        definitions = []
        var root = value(depth: 0)
        if !definitions.isEmpty, case .object(var members) = root {
            members.append(("$defs", .object(definitions.map { (key: $0.0, value: $0.1) })))
            root = .object(members)
        }
        return root
    }

    /// One schema node.
    mutating func value(depth: Int) -> JSONValue {
        let leafOnly = depth >= 3
        switch int(0...(leafOnly ? 7 : 12)) {
        case 0: return .object([("type", Self.s("string"))] + stringBounds())
        case 1: return .object([("type", Self.s("integer"))] + integerBounds())
        case 2: return .object([("type", Self.s("number"))] + (chance(50) ? [("minimum", Self.n(int(-50...0)))] : []) + (chance(50) ? [("maximum", Self.n(int(1...500)))] : []))
        case 3: return .object([("type", Self.s("boolean"))])
        case 4: return .object([("type", Self.s("null"))])
        case 5: return .object([("enum", .array([Self.s("low"), Self.s("normal"), Self.n(int(0...9)), .bool(true), .null, Self.s("qu\"ote")]))])
        case 6: return .object([("const", chance(50) ? Self.s("fixed-é") : Self.n(int(-3...3)))])
        case 7:
            let formats = ["date", "time", "date-time", "email", "uuid", "uri"]
            return .object([("type", Self.s("string")), ("format", Self.s(formats[int(0...5)]))])
        case 8:
            let patterns = ["^ORD-[0-9]{4,8}$", "^[a-z][a-z0-9-]{1,12}$", "^[A-Z]{2}$", "^(yes|no|maybe)$", "^\\d{3}-\\d{4}$"]
            return .object([("type", Self.s("string")), ("pattern", Self.s(patterns[int(0...4)]))])
        case 9: return object(depth: depth)
        case 10:
            var members: [(key: String, value: JSONValue)] = [("type", Self.s("array")), ("items", value(depth: depth + 1))]
            if chance(50) { members.append(("minItems", Self.n(int(0...2)))) }
            members.append(("maxItems", Self.n(int(2...4))))
            return .object(members)
        case 11:
            if chance(50) { return .object([("anyOf", .array([value(depth: depth + 1), value(depth: depth + 1)]))]) }
            // oneOf compiles only over provably disjoint branches: here, a string and an integer.
            return .object([("oneOf", .array([.object([("type", Self.s("string"))] + stringBounds()),
                                                .object([("type", Self.s("integer"))] + integerBounds())]))])
        default:
            let name = "d\(definitions.count)"
            definitions.append((name, value(depth: depth + 1)))
            return .object([("$ref", Self.s("#/$defs/\(name)"))])
        }
    }

    mutating func object(depth: Int) -> JSONValue {
        let names = ["id", "name", "count", "tags", "note", "when"]
        var properties: [(key: String, value: JSONValue)] = []
        var required: [JSONValue] = []
        for name in names.prefix(int(1...4)) {
            properties.append((name, value(depth: depth + 1)))
            if chance(60) { required.append(Self.s(name)) }
        }
        return .object([("type", Self.s("object")), ("properties", .object(properties)), ("required", .array(required)),
                        ("additionalProperties", .bool(false))])
    }

    mutating func stringBounds() -> [(key: String, value: JSONValue)] {
        var out: [(key: String, value: JSONValue)] = []
        let low = int(0...3)
        if chance(50) { out.append(("minLength", Self.n(low))) }
        if chance(70) { out.append(("maxLength", Self.n(low + int(0...12)))) }
        return out
    }

    mutating func integerBounds() -> [(key: String, value: JSONValue)] {
        var out: [(key: String, value: JSONValue)] = []
        let low = int(-1000...100)
        if chance(60) { out.append((chance(30) ? "exclusiveMinimum" : "minimum", Self.n(low))) }
        if chance(60) { out.append((chance(30) ? "exclusiveMaximum" : "maximum", Self.n(low + int(2...5000)))) }
        return out
    }
}
