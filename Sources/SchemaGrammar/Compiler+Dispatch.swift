// Taking a schema apart: annotations are skipped, unknown keywords are rejected (fail closed),
// `$ref`/`allOf`/`anyOf`/`oneOf`/`enum`/`const` are handled first, then one grammar per `type`.

import Grammar
import JSON

/// The seven JSON Schema instance types.
enum InstanceType: String, CaseIterable {
    case null, boolean, integer, number, string, array, object
}

extension Compiler {
    /// Keywords with no effect on the grammar.
    static let annotationKeywords: Set<String> = [
        "description", "title", "default", "examples", "$schema", "$id", "$comment", "$defs", "definitions",
    ]

    /// Keywords that restrict values, grouped by the type they imply when `type` is absent.
    static let keywordsByType: [(InstanceType, Set<String>)] = [
        (.object, ["properties", "required", "additionalProperties", "minProperties", "maxProperties"]),
        (.array, ["items", "prefixItems", "minItems", "maxItems"]),
        (.string, ["minLength", "maxLength", "pattern", "format"]),
        (.number, ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
    ]

    /// Keywords handled before the type is looked at.
    static let generalKeywords: Set<String> = ["type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf", fromInputKeyword]

    /// The one extension keyword: `"x-from-input": true` on a string schema makes its value a verbatim
    /// span of the request (see `Grammar.groundedRules`).
    static let fromInputKeyword = "x-from-input"

    /// Every keyword the compiler understands.
    static let knownKeywords: Set<String> = annotationKeywords.union(generalKeywords)
        .union(keywordsByType.flatMap { $0.1 })

    /// The grammar of the values `schema` (found at `pointer`) admits. `name` is the rule being
    /// built, used as the prefix of names of nested rules.
    mutating func compileSchema(_ schema: JSONValue, at pointer: String, name: String) throws(SchemaCompileError) -> GrammarExpr {
        guard nesting < NestingLimit.depth else {
            throw .invalidSchema(pointer: pointer, reason: "schema nests deeper than \(NestingLimit.depth) levels, counting subschemas "
                                 + "and $ref links (a $ref chain, or a schema that keeps inlining itself?)")
        }
        nesting += 1
        defer { nesting -= 1 }
        let members: [(key: String, value: JSONValue)]
        switch schema {
        case .bool(true): return .ruleRef(JSONPrimitives.value)
        case .bool(false): throw .invalidSchema(pointer: pointer, reason: "the schema false admits no value")
        case .object(let m): members = m
        default: throw .invalidSchema(pointer: pointer, reason: "a schema must be an object or a boolean")
        }
        for member in members where !Self.knownKeywords.contains(member.key) {
            throw .unsupportedKeyword(keyword: member.key, pointer: JSONPointer.appending(pointer, member.key))
        }
        let assertions = members.filter { !Self.annotationKeywords.contains($0.key) }
        try checkFromInput(schema, at: pointer)

        if let ref = schema["$ref"] {
            let siblings = assertions.filter { $0.key != "$ref" }
            if !siblings.isEmpty {
                // Keywords beside `$ref` refine the target, as if both were in an `allOf`.
                let merged = try mergeReference(ref, siblings: siblings, at: pointer)
                return try compileSchema(merged, at: pointer, name: name)
            }
            let (target, targetPointer) = try resolve(ref, at: JSONPointer.appending(pointer, "$ref"))
            return try referenceRule(target: target, targetPointer: targetPointer)
        }
        if let allOf = schema["allOf"] {
            let merged = try mergeAllOf(allOf, siblings: assertions.filter { $0.key != "allOf" }, at: pointer)
            return try compileSchema(merged, at: pointer, name: name)
        }
        if schema["anyOf"] != nil || schema["oneOf"] != nil {
            return try compileAlternatives(schema, assertions: assertions, at: pointer, name: name)
        }

        let declared = try declaredTypes(schema, at: pointer)
        if let constant = schema["const"] {
            if let declared, !declared.contains(where: { constant.isInstance(of: $0) }) {
                throw .invalidSchema(pointer: JSONPointer.appending(pointer, "const"), reason: "const does not match type")
            }
            return .literal(CompactJSON.serialize(constant))
        }
        if let enumValue = schema["enum"] {
            return try compileEnum(enumValue, declared: declared, at: JSONPointer.appending(pointer, "enum"))
        }

        let types = declared ?? inferredTypes(from: assertions)
        if types.isEmpty { return .ruleRef(JSONPrimitives.value) }
        var alternatives: [GrammarExpr] = []
        for type in types {
            alternatives.append(try compileTyped(type, schema, at: pointer, name: name))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// `x-from-input` must be a boolean on a plain string schema (`"type": "string"`, optionally with
    /// lengths, `pattern` or `format`): a span of the request is a string, and an enum or a combinator
    /// beside it would make "which text must be grounded" ambiguous.
    private func checkFromInput(_ schema: JSONValue, at pointer: String) throws(SchemaCompileError) {
        guard let flag = schema[Self.fromInputKeyword] else { return }
        let flagPointer = JSONPointer.appending(pointer, Self.fromInputKeyword)
        guard case .bool = flag else {
            throw .invalidSchema(pointer: flagPointer, reason: "\(Self.fromInputKeyword) must be true or false")
        }
        guard schema["type"]?.stringValue == InstanceType.string.rawValue else {
            throw .invalidSchema(pointer: flagPointer, reason: "\(Self.fromInputKeyword) is allowed only on a schema with \"type\": \"string\"")
        }
        for keyword in ["enum", "const", "$ref", "allOf", "anyOf", "oneOf"] where schema[keyword] != nil {
            throw .invalidSchema(pointer: flagPointer, reason: "\(Self.fromInputKeyword) cannot be combined with \(keyword)")
        }
    }

    /// The grammar of `schema` restricted to one instance type.
    private mutating func compileTyped(_ type: InstanceType, _ schema: JSONValue, at pointer: String, name: String) throws(SchemaCompileError) -> GrammarExpr {
        switch type {
        case .null: return .literal("null")
        case .boolean: return .choice([.literal("true"), .literal("false")])
        case .integer: return try compileNumber(schema, integer: true, at: pointer)
        case .number: return try compileNumber(schema, integer: false, at: pointer)
        case .string: return try compileString(schema, at: pointer, name: name)
        case .array: return try compileArray(schema, at: pointer, name: name)
        case .object: return try compileObject(schema, at: pointer, name: name)
        }
    }

    /// The `type` keyword as a list, or nil when absent.
    private func declaredTypes(_ schema: JSONValue, at pointer: String) throws(SchemaCompileError) -> [InstanceType]? {
        guard let value = schema["type"] else { return nil }
        let where_ = JSONPointer.appending(pointer, "type")
        let names: [JSONValue]
        switch value {
        case .string: names = [value]
        case .array(let list) where !list.isEmpty: names = list
        default: throw .invalidSchema(pointer: where_, reason: "type must be a string or a non-empty array of strings")
        }
        var types: [InstanceType] = []
        for (index, entry) in names.enumerated() {
            guard let text = entry.stringValue, let type = InstanceType(rawValue: text) else {
                throw .invalidSchema(pointer: value.arrayValue == nil ? where_ : JSONPointer.appending(where_, index),
                                     reason: "unknown type \(CompactJSON.serialize(entry))")
            }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    /// Types implied by type-specific keywords when `type` is absent (empty: any value).
    private func inferredTypes(from assertions: [(key: String, value: JSONValue)]) -> [InstanceType] {
        Self.keywordsByType.compactMap { type, keywords in
            assertions.contains { keywords.contains($0.key) } ? type : nil
        }
    }

    /// `enum`: the listed values (restricted to the declared types), each written compactly.
    private func compileEnum(_ value: JSONValue, declared: [InstanceType]?, at pointer: String) throws(SchemaCompileError) -> GrammarExpr {
        guard let list = value.arrayValue, !list.isEmpty else {
            throw .invalidSchema(pointer: pointer, reason: "enum must be a non-empty array")
        }
        var texts: [String] = []
        var seen: Set<String> = []
        for item in list {
            if let declared, !declared.contains(where: { item.isInstance(of: $0) }) { continue }
            let text = CompactJSON.serialize(item)
            if seen.insert(text).inserted { texts.append(text) }
        }
        guard !texts.isEmpty else { throw .invalidSchema(pointer: pointer, reason: "no enum value matches type") }
        return texts.count == 1 ? .literal(texts[0]) : .choice(texts.map { .literal($0) })
    }

    /// `anyOf` / `oneOf`. A grammar cannot express "exactly one", so `oneOf` compiles only when its
    /// branches provably cannot both match (see `OneOfDisjointness`); otherwise it is an error rather
    /// than a silent `anyOf`. Sibling keywords are merged into every branch as if by `allOf`.
    private mutating func compileAlternatives(_ schema: JSONValue, assertions: [(key: String, value: JSONValue)],
                                              at pointer: String, name: String) throws(SchemaCompileError) -> GrammarExpr {
        if schema["anyOf"] != nil && schema["oneOf"] != nil {
            throw .unsupportedKeyword(keyword: "oneOf", pointer: JSONPointer.appending(pointer, "oneOf"))
        }
        let keyword = schema["anyOf"] != nil ? "anyOf" : "oneOf"
        let listPointer = JSONPointer.appending(pointer, keyword)
        guard let branches = schema[keyword]?.arrayValue, !branches.isEmpty else {
            throw .invalidSchema(pointer: listPointer, reason: "\(keyword) must be a non-empty array")
        }
        if keyword == "oneOf", branches.count > OneOfDisjointness.maxBranches {
            throw .invalidSchema(pointer: listPointer, reason: "oneOf has \(branches.count) branches, more than the \(OneOfDisjointness.maxBranches) "
                                 + "whose disjointness can be checked; use anyOf")
        }
        if keyword == "oneOf", let (i, j) = OneOfDisjointness.overlappingPair(branches, resolve: { try? self.resolve($0, at: pointer).0 }) {
            throw .invalidSchema(pointer: listPointer, reason: "oneOf branches \(i) and \(j) may both match a value, and a grammar cannot enforce "
                                 + "exactly one; give them different types or consts, or use anyOf")
        }
        let siblings = assertions.filter { $0.key != keyword }
        var alternatives: [GrammarExpr] = []
        for (index, branch) in branches.enumerated() {
            let branchPointer = JSONPointer.appending(listPointer, index)
            let effective = siblings.isEmpty ? branch : JSONValue.object([(key: "allOf", value: .array([.object(siblings), branch]))])
            alternatives.append(try ruleFor(effective, at: branchPointer, hint: "\(name)-\(index)"))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// The schema a local `$ref` (`#`, `#/$defs/x`, `#/definitions/x`, any `#/...` pointer) names.
    func resolve(_ ref: JSONValue, at pointer: String) throws(SchemaCompileError) -> (JSONValue, String) {
        guard let text = ref.stringValue else { throw .invalidSchema(pointer: pointer, reason: "$ref must be a string") }
        guard text == "#" || text.hasPrefix("#/") else { throw .unresolvedReference(ref: text, pointer: pointer) }
        var node = document
        for token in JSONPointer.tokens(of: text) {
            if let child = node[token] {
                node = child
            } else if let list = node.arrayValue, let index = Int(token), list.indices.contains(index) {
                node = list[index]
            } else {
                throw .unresolvedReference(ref: text, pointer: pointer)
            }
        }
        return (node, text == "#" ? "" : String(text.dropFirst()))
    }
}

extension JSONValue {
    /// True when the value is an instance of `type` (integers are numbers too).
    func isInstance(of type: InstanceType) -> Bool {
        switch (type, self) {
        case (.null, .null), (.boolean, .bool), (.number, .number), (.string, .string), (.array, .array), (.object, .object):
            return true
        case (.integer, .number(let n)): return n.isInteger
        default: return false
        }
    }
}
