// The validator's compiled form of one (sub)schema: keyword values checked and decoded once,
// subschemas referred to by index into the validator's node table (so `$ref` cycles are fine).

import JSON
import SchemaGrammar

/// The JSON Schema instance types.
enum InstanceType: String, CaseIterable, Sendable {
    case null, boolean, object, array, number, integer, string
}

/// The `format` values the validator checks.
enum StringFormat: String, Sendable {
    case date, time, dateTime = "date-time", email, uuid, uri
}

/// One compiled schema. Pointers are those of the schema itself; keyword pointers append the keyword.
struct SchemaNode: Sendable {
    /// Where this schema sits in the root schema.
    var pointer: String
    /// `false` as a schema: nothing is valid.
    var rejectsEverything = false

    var reference: Int?
    var types: [InstanceType]?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?

    var minimum: JSONNumber?
    var maximum: JSONNumber?
    var exclusiveMinimum: JSONNumber?
    var exclusiveMaximum: JSONNumber?

    var minLength: Int?
    var maxLength: Int?
    var pattern: PatternMatcher?
    var format: StringFormat?
    /// `x-from-input: true`: the string must occur in the request.
    var fromInput = false

    var prefixItems: [Int] = []
    var items: Int?
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false

    var properties: [(name: String, node: Int)] = []
    var required: [String] = []
    var additionalProperties: Int?

    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int?

    init(pointer: String) { self.pointer = pointer }

    /// Subschemas applied to the same instance (no progress into it): the edges a `$ref` loop
    /// would have to run along.
    var sameInstanceChildren: [Int] {
        var children = allOf + anyOf + oneOf
        if let reference { children.append(reference) }
        if let not { children.append(not) }
        return children
    }
}
