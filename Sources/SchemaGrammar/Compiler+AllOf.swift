// `allOf`: the member schemas (and the keywords beside `allOf`) are merged into one schema.
// Properties are united (a property in several members gets the `allOf` of its schemas),
// `required` lists are united, `type` lists intersected (no common type is an error), lower
// bounds take the largest value and upper bounds the smallest, `enum` lists are intersected.
// Any other keyword given differently by two members cannot be merged and is reported.

import JSON

extension Compiler {
    static let lowerBoundKeywords: Set<String> = ["minimum", "minLength", "minItems", "minProperties"]
    static let upperBoundKeywords: Set<String> = ["maximum", "maxLength", "maxItems", "maxProperties"]

    /// One schema equivalent to `allOf` together with its sibling keywords.
    func mergeAllOf(_ allOf: JSONValue, siblings: [(key: String, value: JSONValue)],
                    at pointer: String, depth: Int = 0) throws(SchemaCompileError) -> JSONValue {
        let listPointer = JSONPointer.appending(pointer, "allOf")
        guard let list = allOf.arrayValue, !list.isEmpty else {
            throw .invalidSchema(pointer: listPointer, reason: "allOf must be a non-empty array")
        }
        var merged: [(key: String, value: JSONValue)] = []
        try merge(siblings, into: &merged, at: pointer)
        for (index, member) in list.enumerated() {
            let memberPointer = JSONPointer.appending(listPointer, index)
            let keywords = try flattened(member, at: memberPointer, depth: depth)
            try merge(keywords, into: &merged, at: memberPointer)
        }
        return .object(merged)
    }

    /// One schema equivalent to the target of `ref` refined by the keywords beside it.
    func mergeReference(_ ref: JSONValue, siblings: [(key: String, value: JSONValue)],
                        at pointer: String) throws(SchemaCompileError) -> JSONValue {
        let (target, targetPointer) = try resolve(ref, at: JSONPointer.appending(pointer, "$ref"))
        var merged = try flattened(target, at: targetPointer, depth: 1)
        try merge(siblings, into: &merged, at: pointer)
        return .object(merged)
    }

    /// The assertion keywords of `schema`, with `$ref` followed and nested `allOf` merged.
    private func flattened(_ schema: JSONValue, at pointer: String, depth: Int) throws(SchemaCompileError) -> [(key: String, value: JSONValue)] {
        switch schema {
        case .bool(true): return []
        case .bool(false): throw .invalidSchema(pointer: pointer, reason: "the schema false admits no value")
        case .object(let members):
            for member in members where !Self.knownKeywords.contains(member.key) {
                throw .unsupportedKeyword(keyword: member.key, pointer: JSONPointer.appending(pointer, member.key))
            }
            let assertions = members.filter { !Self.annotationKeywords.contains($0.key) }
            if let ref = schema["$ref"] {
                guard depth < NestingLimit.depth else { throw Self.mergedTooDeep(at: pointer) }
                let (target, targetPointer) = try resolve(ref, at: JSONPointer.appending(pointer, "$ref"))
                var keywords = try flattened(target, at: targetPointer, depth: depth + 1)
                try merge(assertions.filter { $0.key != "$ref" }, into: &keywords, at: pointer)
                return keywords
            }
            if let nested = schema["allOf"] {
                guard depth < NestingLimit.depth else { throw Self.mergedTooDeep(at: pointer) }
                let merged = try mergeAllOf(nested, siblings: assertions.filter { $0.key != "allOf" }, at: pointer, depth: depth + 1)
                return merged.objectMembers ?? []
            }
            return assertions
        default:
            throw .invalidSchema(pointer: pointer, reason: "a schema must be an object or a boolean")
        }
    }

    /// `allOf` members and `$ref` targets merged one inside another past the shared depth bound.
    private static func mergedTooDeep(at pointer: String) -> SchemaCompileError {
        .invalidSchema(pointer: pointer, reason: "allOf and $ref nest deeper than \(NestingLimit.depth) levels (does the schema refer to itself?)")
    }

    /// Merges `keywords` (from the schema at `pointer`) into `merged`.
    private func merge(_ keywords: [(key: String, value: JSONValue)], into merged: inout [(key: String, value: JSONValue)],
                       at pointer: String) throws(SchemaCompileError) {
        for (key, value) in keywords {
            guard let index = merged.firstIndex(where: { $0.key == key }) else {
                merged.append((key, value))
                continue
            }
            let existing = merged[index].value
            if existing == value { continue }
            let keywordPointer = JSONPointer.appending(pointer, key)
            switch key {
            case "properties":
                var combined = existing.objectMembers ?? []
                for property in value.objectMembers ?? [] {
                    if let at = combined.firstIndex(where: { $0.key == property.key }) {
                        if combined[at].value != property.value {
                            combined[at].value = .object([(key: "allOf", value: .array([combined[at].value, property.value]))])
                        }
                    } else {
                        combined.append(property)
                    }
                }
                merged[index].value = .object(combined)
            case "required":
                var names = existing.arrayValue ?? []
                for name in value.arrayValue ?? [] where !names.contains(name) { names.append(name) }
                merged[index].value = .array(names)
            case "type":
                let common = Self.commonTypes(typeNames(existing), typeNames(value))
                guard !common.isEmpty else {
                    throw .invalidSchema(pointer: keywordPointer, reason: "allOf members have no type in common")
                }
                merged[index].value = .array(common.map { .string($0) })
            case "enum":
                let kept = (existing.arrayValue ?? []).filter { (value.arrayValue ?? []).contains($0) }
                guard !kept.isEmpty else { throw .invalidSchema(pointer: keywordPointer, reason: "allOf enums have no value in common") }
                merged[index].value = .array(kept)
            case "additionalProperties" where existing == .bool(false) || value == .bool(false):
                merged[index].value = .bool(false)
            case _ where Self.lowerBoundKeywords.contains(key) || Self.upperBoundKeywords.contains(key):
                guard let a = existing.doubleValue, let b = value.doubleValue else {
                    throw .invalidSchema(pointer: keywordPointer, reason: "\(key) must be a number")
                }
                let lower = Self.lowerBoundKeywords.contains(key)
                merged[index].value = (lower ? a >= b : a <= b) ? existing : value
            default:
                throw .unsupportedKeyword(keyword: key, pointer: keywordPointer)
            }
        }
    }

    /// Types in both lists, in the first list's order; `integer` is common to `number` and `integer`.
    private static func commonTypes(_ a: [String], _ b: [String]) -> [String] {
        var common: [String] = []
        for name in a + b where !common.contains(name) {
            let inA = a.contains(name) || (name == "integer" && a.contains("number"))
            let inB = b.contains(name) || (name == "integer" && b.contains("number"))
            if inA && inB { common.append(name) }
        }
        return common
    }

    /// The names in a `type` value (a string or an array of strings).
    private func typeNames(_ value: JSONValue) -> [String] {
        if let name = value.stringValue { return [name] }
        return (value.arrayValue ?? []).compactMap(\.stringValue)
    }
}
