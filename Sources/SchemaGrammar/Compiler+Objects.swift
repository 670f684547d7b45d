// `object` with `properties`, `required`, `additionalProperties`, `minProperties`, `maxProperties`.
//
// Members come in `properties` order: required ones always, optional ones possibly left out,
// so the grammar admits every ordered subsequence that keeps all required members. A member
// after the first is preceded by a comma, so commas are right whatever is left out.
//
// `additionalProperties` absent or `true` is treated as `false` (only listed properties). A
// schema value admits, after the listed members, up to the default maximum of further members
// whose keys (in canonical spelling) differ from every listed name. Without `properties` the
// object is a map from any key to that schema, with at most `maxProperties` (or the default)
// members. The grammar does not make additional keys unique among themselves.

import Grammar
import JSON

extension Compiler {
    /// The grammar of the objects `schema` admits.
    mutating func compileObject(_ schema: JSONValue, at pointer: String, name: String) throws(SchemaCompileError) -> GrammarExpr {
        let properties = schema["properties"]?.objectMembers ?? []
        if let value = schema["properties"], value.objectMembers == nil {
            throw .invalidSchema(pointer: JSONPointer.appending(pointer, "properties"), reason: "properties must be an object")
        }
        let required = try requiredNames(schema, at: pointer, properties: properties)

        var extra: GrammarExpr?
        if let additional = schema["additionalProperties"], additional != .bool(false), additional != .bool(true) {
            if properties.isEmpty { return try compileMap(schema, valueSchema: additional, at: pointer, name: name) }
            let additionalPointer = JSONPointer.appending(pointer, "additionalProperties")
            let value = try ruleFor(additional, at: additionalPointer, hint: "\(name)-additional")
            let key = ObjectKeys.excluding(properties.map(\.key), maxLength: options.defaultMaxStringLength)
            extra = namedRule("\(name)-additional-member", at: additionalPointer, body: .sequence([key, .literal(":"), value]))
        }
        for keyword in ["minProperties", "maxProperties"] where schema[keyword] != nil {
            throw .unsupportedKeyword(keyword: keyword, pointer: JSONPointer.appending(pointer, keyword))
        }

        var members: [(expr: GrammarExpr, required: Bool)] = []
        let propertiesPointer = JSONPointer.appending(pointer, "properties")
        for property in properties {
            let value = try ruleFor(property.value, at: JSONPointer.appending(propertiesPointer, property.key),
                                    hint: "\(name)-\(property.key)")
            let key = GrammarExpr.literal(CompactJSON.quoted(property.key) + ":")
            members.append((simplified(.sequence([key, value])), required.contains(property.key)))
        }

        // Additional members, if any, come after the listed ones.
        let extraLimit = options.defaultMaxProperties
        let extraTail = extra.map { GrammarExpr.repeat(.sequence([.literal(","), $0]), min: 0, max: extraLimit) }
        // after(i): members i… once something has been written (each preceded by a comma).
        func after(_ i: Int) -> [GrammarExpr] {
            members[i...].map { member in
                let withComma = simplified(.sequence([.literal(","), member.expr]))
                return member.required ? withComma : .repeat(withComma, min: 0, max: 1)
            } + (extraTail.map { [$0] } ?? [])
        }
        // The first member written is some j with no required member before it; or none at all
        // when nothing is required.
        var firsts: [GrammarExpr] = []
        for j in members.indices {
            firsts.append(simplified(.sequence([members[j].expr] + after(j + 1))))
            if members[j].required { break }
        }
        if let extra, required.isEmpty, extraLimit > 0 {
            firsts.append(.sequence([extra, .repeat(.sequence([.literal(","), extra]), min: 0, max: extraLimit - 1)]))
        }
        let body: GrammarExpr
        if firsts.isEmpty {
            body = .sequence([])
        } else {
            let choice = firsts.count == 1 ? firsts[0] : .choice(firsts)
            body = required.isEmpty ? .repeat(choice, min: 0, max: 1) : choice
        }
        return simplified(.sequence([.literal("{"), body, .literal("}")]))
    }

    /// `required`, checked against `properties`.
    private func requiredNames(_ schema: JSONValue, at pointer: String,
                               properties: [(key: String, value: JSONValue)]) throws(SchemaCompileError) -> Set<String> {
        guard let value = schema["required"] else { return [] }
        let requiredPointer = JSONPointer.appending(pointer, "required")
        guard let list = value.arrayValue else {
            throw .invalidSchema(pointer: requiredPointer, reason: "required must be an array of strings")
        }
        var names: Set<String> = []
        for (index, entry) in list.enumerated() {
            guard let key = entry.stringValue else {
                throw .invalidSchema(pointer: JSONPointer.appending(requiredPointer, index), reason: "required entries must be strings")
            }
            guard properties.contains(where: { $0.key == key }) else {
                throw .invalidSchema(pointer: JSONPointer.appending(requiredPointer, index),
                                     reason: "required property \"\(key)\" is not in properties (additional properties are not produced)")
            }
            names.insert(key)
        }
        return names
    }

    /// An object whose members all follow `valueSchema`, with any keys.
    private mutating func compileMap(_ schema: JSONValue, valueSchema: JSONValue, at pointer: String,
                                     name: String) throws(SchemaCompileError) -> GrammarExpr {
        let minProperties = try length(schema, "minProperties", at: pointer) ?? 0
        let maxProperties = try length(schema, "maxProperties", at: pointer) ?? options.defaultMaxProperties
        if minProperties > maxProperties {
            throw .invalidSchema(pointer: pointer, reason: "minProperties exceeds maxProperties")
        }
        if maxProperties == 0 { return .literal("{}") }
        let value = try ruleFor(valueSchema, at: JSONPointer.appending(pointer, "additionalProperties"), hint: "\(name)-value")
        let member = GrammarExpr.sequence([.ruleRef(JSONPrimitives.string), .literal(":"), value])
        let members = GrammarExpr.sequence([
            member,
            .repeat(.sequence([.literal(","), member]), min: max(0, minProperties - 1), max: maxProperties - 1),
        ])
        return .sequence([.literal("{"), minProperties > 0 ? members : .repeat(members, min: 0, max: 1), .literal("}")])
    }
}

/// Keys of additional properties.
enum ObjectKeys {
    /// A JSON string (canonical escapes only, at most `maxLength` characters) whose decoded text
    /// is none of `excluded`: a walk down the trie of the excluded names that may leave it at
    /// any character, or end anywhere but at an excluded name.
    static func excluding(_ excluded: [String], maxLength: Int) -> GrammarExpr {
        let names = excluded.map { Array($0.unicodeScalars.map(\.value)) }
        let body = rest(names.map { $0[...] }, depth: 0, maxLength: maxLength)
        return simplified(.sequence([.literal("\""), body, .literal("\"")]))
    }

    /// Key text after a prefix shared by `names` (each holding its remaining scalars).
    private static func rest(_ names: [ArraySlice<UInt32>], depth: Int, maxLength: Int) -> GrammarExpr {
        var alternatives: [GrammarExpr] = []
        if !names.contains(where: \.isEmpty) { alternatives.append(.sequence([])) }
        guard depth < maxLength else { return alternatives.first ?? .charClass(CharClass(ranges: [])) }
        var nextScalars: [UInt32] = []
        for name in names { if let first = name.first, !nextScalars.contains(first) { nextScalars.append(first) } }
        for scalar in nextScalars {
            guard let unicode = Unicode.Scalar(scalar) else { continue }
            let followers = names.filter { $0.first == scalar }.map { $0.dropFirst() }
            alternatives.append(simplified(.sequence([.literal(CompactJSON.escaped(unicode)),
                                                                 rest(followers, depth: depth + 1, maxLength: maxLength)])))
        }
        let others = ScalarSet(nextScalars.map { $0...$0 }).complement
        if let leave = try? RegexGrammar.encoded(others) {
            // Once the key has left the trie it differs from every name, however the rest is spelled.
            alternatives.append(.sequence([leave, .repeat(.ruleRef(JSONPrimitives.char), min: 0, max: maxLength - depth - 1)]))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }
}
