// An independent JSON Schema validator: the check that every decoded tool call fits its schema
// before it is dispatched. It deliberately shares no schema code with the grammar compiler
// (SchemaGrammar), so a bug in one is caught by the other. Patterns are the exception: both read
// them with SchemaGrammar's regex parser, so they agree on the syntax and on what a class means;
// the grammar compiler turns the tree into grammar, the validator runs it as an automaton
// (`PatternMatcher`, linear time: a catalogue's pattern cannot make the check backtrack for ever).
//
// Checking recurses along the schema and the value together; past `NestingLimit.depth` levels it
// stops and reports the value invalid (fail closed) rather than risk the worker's stack.

import JSON
import Grammar

/// Where a call came from, for the `x-from-input` check (its values must be spans of the request).
public enum CallOrigin: Sendable, Equatable {
    /// Decoded from this request: every `x-from-input` value must occur in it verbatim, from word
    /// boundary to word boundary (`SpanBoundaries`).
    case request(String)
    /// Not decoded from any request (a call written by hand: examples, tests, `render-prompt --call`):
    /// there is no text to ground a value in, so `x-from-input` is not checked. The daemon never uses
    /// this: its only calls are routed ones (`call` routes first), and it re-validates them against
    /// their request at dispatch.
    case unrequested
}

/// Validates JSON values against one JSON Schema (the subset listed in `ValidatorBuilder`).
public struct SchemaValidator: Sendable {
    private let nodes: [SchemaNode]
    /// Where grounded values may sit in the request of the value being checked (set on the copy one
    /// `validate(_:origin:)` call works on).
    private var request: SpanBoundaries?

    /// Compiles `schema`. Throws when it uses a keyword or format the validator does not
    /// implement, has malformed keyword values, an unresolvable `$ref`, or a `$ref` loop that
    /// never consumes input.
    public init(schema: JSONValue) throws(SchemaValidationError) {
        var builder = ValidatorBuilder(root: schema)
        _ = try builder.compile(schema, at: "")
        try builder.checkForCycles()
        nodes = builder.nodes
    }

    /// Every way `value` fails the schema, `x-from-input` values checked against `origin`'s request;
    /// empty when it is valid.
    public func validate(_ value: JSONValue, origin: CallOrigin) -> [ValidationIssue] {
        var checker = self
        if case .request(let text) = origin { checker.request = SpanBoundaries(text) }
        return checker.validate(value)
    }

    /// Every way `value` fails the schema, without a request: `x-from-input` values are not checked
    /// (the same as `origin: .unrequested`). Empty when it is valid.
    public func validate(_ value: JSONValue) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        check(value, against: 0, at: "", depth: 0, into: &issues)
        return issues
    }

    /// Whether `value` satisfies the schema.
    public func isValid(_ value: JSONValue) -> Bool { validate(value).isEmpty }

    // MARK: Checking

    private func check(_ value: JSONValue, against index: Int, at instance: String, depth: Int, into issues: inout [ValidationIssue]) {
        let node = nodes[index]
        guard depth < NestingLimit.depth else {
            issues.append(Self.issue(node, "", instance, "schema and value nest deeper than \(NestingLimit.depth) levels; not checked"))
            return
        }
        let depth = depth + 1
        if node.rejectsEverything {
            issues.append(Self.issue(node, "", instance, "no value is allowed here"))
            return
        }
        if let reference = node.reference { check(value, against: reference, at: instance, depth: depth, into: &issues) }
        if let types = node.types, !types.contains(where: { Self.value(value, hasType: $0) }) {
            let expected = types.count == 1 ? types[0].rawValue : "one of " + types.map(\.rawValue).joined(separator: ", ")
            issues.append(Self.issue(node, "type", instance, "expected \(expected), found \(value.kindDescription)"))
        }
        if let values = node.enumValues, !values.contains(where: { schemaEqual($0, value) }) {
            issues.append(Self.issue(node, "enum", instance, "value must be one of \(JSONWriter.compact(.array(values)))"))
        }
        if let constant = node.constValue, !schemaEqual(constant, value) {
            issues.append(Self.issue(node, "const", instance, "value must be \(JSONWriter.compact(constant))"))
        }
        switch value {
        case .number(let number): checkNumber(number, node, at: instance, into: &issues)
        case .string(let text): checkString(text, node, at: instance, into: &issues)
        case .array(let items): checkArray(items, node, at: instance, depth: depth, into: &issues)
        case .object(let members): checkObject(members, node, at: instance, depth: depth, into: &issues)
        default: break
        }
        checkCombinators(value, node, at: instance, depth: depth, into: &issues)
    }

    private static func issue(_ node: SchemaNode, _ keyword: String, _ instance: String, _ message: String) -> ValidationIssue {
        ValidationIssue(instancePointer: instance,
                        schemaPointer: keyword.isEmpty ? node.pointer : JSONPointer.appending(node.pointer, keyword),
                        message: message)
    }

    private static func value(_ value: JSONValue, hasType type: InstanceType) -> Bool {
        switch (type, value) {
        case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array), (.string, .string), (.number, .number):
            return true
        case (.integer, .number(let number)):
            return DecimalNumber(number).isInteger
        default:
            return false
        }
    }

    private func checkNumber(_ number: JSONNumber, _ node: SchemaNode, at instance: String, into issues: inout [ValidationIssue]) {
        let value = DecimalNumber(number)
        if let bound = node.minimum, value < DecimalNumber(bound) {
            issues.append(Self.issue(node, "minimum", instance, "\(number.text) is less than the minimum \(bound.text)"))
        }
        if let bound = node.maximum, value > DecimalNumber(bound) {
            issues.append(Self.issue(node, "maximum", instance, "\(number.text) is greater than the maximum \(bound.text)"))
        }
        if let bound = node.exclusiveMinimum, value <= DecimalNumber(bound) {
            issues.append(Self.issue(node, "exclusiveMinimum", instance, "\(number.text) is not greater than \(bound.text)"))
        }
        if let bound = node.exclusiveMaximum, value >= DecimalNumber(bound) {
            issues.append(Self.issue(node, "exclusiveMaximum", instance, "\(number.text) is not less than \(bound.text)"))
        }
    }

    private func checkString(_ text: String, _ node: SchemaNode, at instance: String, into issues: inout [ValidationIssue]) {
        if node.minLength != nil || node.maxLength != nil {
            let length = text.unicodeScalars.count
            if let minimum = node.minLength, length < minimum {
                issues.append(Self.issue(node, "minLength", instance, "string has \(length) characters, fewer than the minimum \(minimum)"))
            }
            if let maximum = node.maxLength, length > maximum {
                issues.append(Self.issue(node, "maxLength", instance, "string has \(length) characters, more than the maximum \(maximum)"))
            }
        }
        if let pattern = node.pattern, !pattern.matches(text) {
            issues.append(Self.issue(node, "pattern", instance, "string does not match the pattern \(pattern.source)"))
        }
        if let format = node.format, !FormatChecker.isValid(text, format: format) {
            issues.append(Self.issue(node, "format", instance, "\(JSONWriter.quoted(text)) is not a valid \(format.rawValue)"))
        }
        if node.fromInput, let request, !request.admits(text.utf8) {
            issues.append(Self.issue(node, "x-from-input", instance, "\(JSONWriter.quoted(text)) not found in the request" +
                                     (Self.occurs(Array(text.utf8), in: request.bytes) ? " as whole words" : "")))
        }
    }

    /// True when `needle` is a run of `haystack`'s bytes at any offset (to tell a value cut out of a word
    /// from one that is not there at all, in the error).
    static func occurs(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }

    private func checkArray(_ items: [JSONValue], _ node: SchemaNode, at instance: String, depth: Int,
                            into issues: inout [ValidationIssue]) {
        if let minimum = node.minItems, items.count < minimum {
            issues.append(Self.issue(node, "minItems", instance, "array has \(items.count) items, fewer than the minimum \(minimum)"))
        }
        if let maximum = node.maxItems, items.count > maximum {
            issues.append(Self.issue(node, "maxItems", instance, "array has \(items.count) items, more than the maximum \(maximum)"))
        }
        if node.uniqueItems {
            outer: for later in items.indices {
                for earlier in 0..<later where schemaEqual(items[earlier], items[later]) {
                    issues.append(Self.issue(node, "uniqueItems", instance, "items \(earlier) and \(later) are equal"))
                    break outer
                }
            }
        }
        for (position, item) in items.enumerated() {
            let location = JSONPointer.appending(instance, position)
            if position < node.prefixItems.count {
                check(item, against: node.prefixItems[position], at: location, depth: depth, into: &issues)
            } else if let itemSchema = node.items {
                check(item, against: itemSchema, at: location, depth: depth, into: &issues)
            }
        }
    }

    private func checkObject(_ members: [(key: String, value: JSONValue)], _ node: SchemaNode, at instance: String, depth: Int,
                             into issues: inout [ValidationIssue]) {
        for name in node.required where !members.contains(where: { $0.key.utf8.elementsEqual(name.utf8) }) {
            issues.append(Self.issue(node, "required", instance, "missing required property \(JSONWriter.quoted(name))"))
        }
        for member in members {
            let location = JSONPointer.appending(instance, member.key)
            if let property = node.properties.first(where: { $0.name.utf8.elementsEqual(member.key.utf8) }) {
                check(member.value, against: property.node, at: location, depth: depth, into: &issues)
            } else if let additional = node.additionalProperties {
                if nodes[additional].rejectsEverything {
                    issues.append(Self.issue(node, "additionalProperties", location, "property \(JSONWriter.quoted(member.key)) is not allowed"))
                } else {
                    check(member.value, against: additional, at: location, depth: depth, into: &issues)
                }
            }
        }
    }

    private func checkCombinators(_ value: JSONValue, _ node: SchemaNode, at instance: String, depth: Int,
                                  into issues: inout [ValidationIssue]) {
        for branch in node.allOf { check(value, against: branch, at: instance, depth: depth, into: &issues) }
        if !node.anyOf.isEmpty, !node.anyOf.contains(where: { matches(value, $0, at: instance, depth: depth) }) {
            issues.append(Self.issue(node, "anyOf", instance, "value matches none of the \(node.anyOf.count) alternatives"))
        }
        if !node.oneOf.isEmpty {
            let matching = node.oneOf.indices.filter { matches(value, node.oneOf[$0], at: instance, depth: depth) }
            if matching.count != 1 {
                let detail = matching.isEmpty ? "none" : "alternatives " + matching.map(String.init).joined(separator: ", ")
                issues.append(Self.issue(node, "oneOf", instance, "value must match exactly one of the \(node.oneOf.count) alternatives, matches \(detail)"))
            }
        }
        if let negated = node.not, matches(value, negated, at: instance, depth: depth) {
            issues.append(Self.issue(node, "not", instance, "value must not match the schema"))
        }
    }

    private func matches(_ value: JSONValue, _ index: Int, at instance: String, depth: Int) -> Bool {
        var scratch: [ValidationIssue] = []
        check(value, against: index, at: instance, depth: depth, into: &scratch)
        return scratch.isEmpty
    }
}
