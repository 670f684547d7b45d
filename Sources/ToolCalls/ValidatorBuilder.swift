// Compiles a JSON Schema into the validator's node table, checking every keyword on the way.
//
// Supported: type, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
// minLength, maxLength, pattern, format, items, prefixItems, minItems, maxItems, uniqueItems,
// properties, required, additionalProperties, allOf, anyOf, oneOf, not, $ref, $defs,
// definitions, the extension x-from-input (on string schemas), plus the annotations title, description, default, examples, $schema, $id,
// $comment. Anything else is an error: a validator that skipped a keyword would pass values
// the schema forbids.
//
// The schema comes from a catalogue file, so the walk is bounded: subschemas (through `$ref` too)
// nest at most `NestingLimit.depth` deep while compiling, and no chain of `$ref`s and combinators
// applied to one value is longer than that (the checker recurses along such chains). Patterns
// compile to the linear-time `PatternMatcher`; one it cannot compile is an error here, not a skip.

import JSON
import SchemaGrammar

struct ValidatorBuilder {
    private let root: JSONValue
    private(set) var nodes: [SchemaNode] = []
    private var indexByPointer: [String: Int] = [:]
    /// Schemas being compiled one inside another.
    private var depth = 0

    static let annotations: Set<String> = ["title", "description", "default", "examples", "$schema", "$id", "$comment"]

    init(root: JSONValue) { self.root = root }

    /// Compiles the schema at `pointer` (memoised, so shared and recursive references compile once).
    mutating func compile(_ schema: JSONValue, at pointer: String) throws(SchemaValidationError) -> Int {
        if let existing = indexByPointer[pointer] { return existing }
        guard depth < NestingLimit.depth else { throw .nestingTooDeep(limit: NestingLimit.depth, pointer: pointer) }
        depth += 1
        defer { depth -= 1 }
        let index = nodes.count
        nodes.append(SchemaNode(pointer: pointer))
        indexByPointer[pointer] = index
        nodes[index] = try build(schema, at: pointer)
        return index
    }

    private mutating func build(_ schema: JSONValue, at pointer: String) throws(SchemaValidationError) -> SchemaNode {
        var node = SchemaNode(pointer: pointer)
        switch schema {
        case .bool(let accepts):
            node.rejectsEverything = !accepts
            return node
        case .object(let members):
            for member in members {
                try apply(member.key, member.value, to: &node, schemaPointer: pointer)
            }
            if schema["x-from-input"] != nil, node.types != [.string] {
                throw invalid("x-from-input", "allowed only on a schema with \"type\": \"string\"",
                              JSONPointer.appending(pointer, "x-from-input"))
            }
            return node
        default:
            throw .notASchema(found: schema.kindDescription, pointer: pointer)
        }
    }

    private mutating func apply(_ keyword: String, _ value: JSONValue, to node: inout SchemaNode,
                                schemaPointer: String) throws(SchemaValidationError) {
        let pointer = JSONPointer.appending(schemaPointer, keyword)
        switch keyword {
        case "type": node.types = try Self.types(value, pointer: pointer)
        case "enum":
            guard case .array(let values) = value else { throw invalid(keyword, "expected an array", pointer) }
            node.enumValues = values
        case "const": node.constValue = value
        case "minimum": node.minimum = try Self.number(keyword, value, pointer: pointer)
        case "maximum": node.maximum = try Self.number(keyword, value, pointer: pointer)
        case "exclusiveMinimum": node.exclusiveMinimum = try Self.number(keyword, value, pointer: pointer)
        case "exclusiveMaximum": node.exclusiveMaximum = try Self.number(keyword, value, pointer: pointer)
        case "minLength": node.minLength = try Self.count(keyword, value, pointer: pointer)
        case "maxLength": node.maxLength = try Self.count(keyword, value, pointer: pointer)
        case "pattern": node.pattern = try Self.pattern(value, pointer: pointer)
        case "format":
            guard case .string(let name) = value else { throw invalid(keyword, "expected a string", pointer) }
            guard let format = StringFormat(rawValue: name) else { throw .unsupportedFormat(name, pointer: pointer) }
            node.format = format
        case "x-from-input":
            // The one extension keyword (see README): only a boolean, only beside "type": "string".
            guard case .bool(let flag) = value else { throw invalid(keyword, "expected true or false", pointer) }
            node.fromInput = flag
        case "items":
            if case .array = value {
                // Drafts 4–7 tuple form: the same meaning as prefixItems.
                node.prefixItems = try compileList(value, keyword: keyword, pointer: pointer, allowEmpty: true)
            } else {
                node.items = try compile(value, at: pointer)
            }
        case "prefixItems": node.prefixItems = try compileList(value, keyword: keyword, pointer: pointer, allowEmpty: true)
        case "minItems": node.minItems = try Self.count(keyword, value, pointer: pointer)
        case "maxItems": node.maxItems = try Self.count(keyword, value, pointer: pointer)
        case "uniqueItems":
            guard case .bool(let flag) = value else { throw invalid(keyword, "expected a boolean", pointer) }
            node.uniqueItems = flag
        case "properties":
            guard case .object(let members) = value else { throw invalid(keyword, "expected an object", pointer) }
            for member in members {
                node.properties.append((name: member.key, node: try compile(member.value, at: JSONPointer.appending(pointer, member.key))))
            }
        case "required": node.required = try Self.names(value, pointer: pointer)
        case "additionalProperties": node.additionalProperties = try compile(value, at: pointer)
        case "allOf": node.allOf = try compileList(value, keyword: keyword, pointer: pointer, allowEmpty: false)
        case "anyOf": node.anyOf = try compileList(value, keyword: keyword, pointer: pointer, allowEmpty: false)
        case "oneOf": node.oneOf = try compileList(value, keyword: keyword, pointer: pointer, allowEmpty: false)
        case "not": node.not = try compile(value, at: pointer)
        case "$ref": node.reference = try resolve(value, pointer: pointer)
        case "$defs", "definitions":
            guard case .object(let members) = value else { throw invalid(keyword, "expected an object", pointer) }
            for member in members {
                _ = try compile(member.value, at: JSONPointer.appending(pointer, member.key))
            }
        default:
            guard Self.annotations.contains(keyword) else { throw .unsupportedKeyword(keyword, pointer: schemaPointer) }
        }
    }

    private func invalid(_ keyword: String, _ reason: String, _ pointer: String) -> SchemaValidationError {
        .invalidKeywordValue(keyword, reason: reason, pointer: pointer)
    }

    private mutating func compileList(_ value: JSONValue, keyword: String, pointer: String,
                                      allowEmpty: Bool) throws(SchemaValidationError) -> [Int] {
        guard case .array(let schemas) = value, allowEmpty || !schemas.isEmpty else {
            throw invalid(keyword, allowEmpty ? "expected an array of schemas" : "expected a non-empty array of schemas", pointer)
        }
        var indices: [Int] = []
        for (position, schema) in schemas.enumerated() {
            indices.append(try compile(schema, at: JSONPointer.appending(pointer, position)))
        }
        return indices
    }

    // MARK: References

    /// Resolves a local `$ref` ("#", "#/$defs/name", "#/definitions/name" or any pointer into the root).
    private mutating func resolve(_ value: JSONValue, pointer: String) throws(SchemaValidationError) -> Int {
        guard case .string(let reference) = value else { throw invalid("$ref", "expected a string", pointer) }
        guard reference.hasPrefix("#"),
              let fragment = reference.dropFirst().removingPercentEncoding,
              let tokens = JSONPointer.tokens(Substring(fragment)) else {
            throw .unresolvedReference(reference, pointer: pointer)
        }
        var target = root
        var targetPointer = ""
        for token in tokens {
            switch target {
            case .object:
                guard let next = target[token] else { throw .unresolvedReference(reference, pointer: pointer) }
                target = next
            case .array(let items):
                guard let position = Int(token), items.indices.contains(position) else {
                    throw .unresolvedReference(reference, pointer: pointer)
                }
                target = items[position]
            default:
                throw .unresolvedReference(reference, pointer: pointer)
            }
            targetPointer = JSONPointer.appending(targetPointer, token)
        }
        return try compile(target, at: targetPointer)
    }

    /// Throws when some schema reaches itself through `$ref` and combinators alone, or starts a
    /// chain of them longer than `NestingLimit.depth` (the checker follows such chains recursively).
    func checkForCycles() throws(SchemaValidationError) {
        // 0: unvisited, 1: on the current path, 2: finished.
        var state = [UInt8](repeating: 0, count: nodes.count)
        // Of a finished node: the most schemas a chain from it applies to one value.
        var chain = [Int](repeating: 1, count: nodes.count)
        for start in nodes.indices where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let children = nodes[top.node].sameInstanceChildren
                if top.next == children.count {
                    state[top.node] = 2
                    chain[top.node] = 1 + (children.map { chain[$0] }.max() ?? 0)
                    if chain[top.node] > NestingLimit.depth {
                        throw .nestingTooDeep(limit: NestingLimit.depth, pointer: nodes[top.node].pointer)
                    }
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let child = children[top.next]
                switch state[child] {
                case 1: throw .referenceCycle(pointer: nodes[child].pointer)
                case 0:
                    state[child] = 1
                    stack.append((child, 0))
                default: continue
                }
            }
        }
    }

    // MARK: Keyword values

    private static func types(_ value: JSONValue, pointer: String) throws(SchemaValidationError) -> [InstanceType] {
        let names: [JSONValue]
        switch value {
        case .string: names = [value]
        case .array(let list) where !list.isEmpty: names = list
        default: throw .invalidKeywordValue("type", reason: "expected a type name or a non-empty array of them", pointer: pointer)
        }
        var types: [InstanceType] = []
        for name in names {
            guard case .string(let text) = name, let type = InstanceType(rawValue: text) else {
                throw .invalidKeywordValue("type", reason: "unknown type \(name.kindDescription)", pointer: pointer)
            }
            types.append(type)
        }
        return types
    }

    private static func number(_ keyword: String, _ value: JSONValue, pointer: String) throws(SchemaValidationError) -> JSONNumber {
        guard case .number(let number) = value else {
            throw .invalidKeywordValue(keyword, reason: "expected a number, found \(value.kindDescription)", pointer: pointer)
        }
        return number
    }

    private static func count(_ keyword: String, _ value: JSONValue, pointer: String) throws(SchemaValidationError) -> Int {
        guard case .number(let number) = value, DecimalNumber(number).isInteger, let count = number.intValue, count >= 0 else {
            throw .invalidKeywordValue(keyword, reason: "expected a non-negative integer, found \(value.kindDescription)", pointer: pointer)
        }
        return count
    }

    private static func names(_ value: JSONValue, pointer: String) throws(SchemaValidationError) -> [String] {
        guard case .array(let items) = value else {
            throw .invalidKeywordValue("required", reason: "expected an array of strings", pointer: pointer)
        }
        var names: [String] = []
        for item in items {
            guard case .string(let name) = item else {
                throw .invalidKeywordValue("required", reason: "expected strings, found \(item.kindDescription)", pointer: pointer)
            }
            names.append(name)
        }
        return names
    }

    private static func pattern(_ value: JSONValue, pointer: String) throws(SchemaValidationError) -> PatternMatcher {
        guard case .string(let source) = value else {
            throw .invalidKeywordValue("pattern", reason: "expected a string", pointer: pointer)
        }
        do {
            return try PatternMatcher(source)
        } catch {
            throw .invalidPattern(source, reason: error.reason, pointer: pointer)
        }
    }
}
