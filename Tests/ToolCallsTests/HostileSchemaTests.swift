// Schemas built to crash or hang the validator: `$ref` chains thousands of links long (listed so
// that compiling recurses through them, or so that it does not but checking would), subschemas
// nested thousands deep, `$ref` cycles, and patterns that make a backtracking engine explode. Each
// must give a specific error naming the JSON pointer where the shared depth bound was reached, or
// validate correctly, without a crash.

import JSON
import SchemaGrammar
import Testing
import ToolCalls

@Suite struct HostileSchemaTests {
    static let limit = NestingLimit.depth

    /// `{"properties": {"x": {"$ref": "#/$defs/a0"}}, "$defs": {"a0": {"$ref": "#/$defs/a1"}, …}}`.
    static func chain(_ links: Int, definitionsFirst: Bool) -> JSONValue {
        var definitions: [(key: String, value: JSONValue)] = (0..<links).map { ("a\($0)", .object([("$ref", .string("#/$defs/a\($0 + 1)"))])) }
        definitions.append(("a\(links)", .object([("type", .string("string"))])))
        let properties: (key: String, value: JSONValue) = ("properties", .object([("x", .object([("$ref", .string("#/$defs/a0"))]))]))
        guard definitionsFirst else { return .object([("type", .string("object")), properties, ("$defs", .object(definitions))]) }
        return .object([("type", .string("object")), ("$defs", .object(definitions.reversed())), properties])
    }

    @Test func aLongRefChainIsRefusedWhereTheBoundIsReached() {
        // Compiling follows x → a0 → a1 → …: the root is level 1, x level 2, a_k level k + 3.
        #expect(throws: SchemaValidationError.nestingTooDeep(limit: Self.limit, pointer: "/$defs/a\(Self.limit - 2)")) {
            try SchemaValidator(schema: Self.chain(5_000, definitionsFirst: false))
        }
        // Listed last link first, compiling never recurses more than a link; the chain a value would
        // be checked along is still 5,001 schemas long.
        #expect(throws: SchemaValidationError.nestingTooDeep(limit: Self.limit, pointer: "/$defs/a\(5_000 - Self.limit)")) {
            try SchemaValidator(schema: Self.chain(5_000, definitionsFirst: true))
        }
        // Short chains are fine.
        let short = try? SchemaValidator(schema: Self.chain(50, definitionsFirst: false))
        #expect(short?.isValid(.object([("x", .string("ok"))])) == true)
        #expect(short?.isValid(.object([("x", .number(JSONNumber(1)))])) == false)
    }

    @Test func deeplyNestedSubschemasAreRefused() {
        var schema: JSONValue = .object([("type", .string("string"))])
        for _ in 0..<1_000 { schema = .object([("type", .string("object")), ("properties", .object([("p", schema)]))]) }
        let pointer = String(repeating: "/properties/p", count: Self.limit)
        #expect(throws: SchemaValidationError.nestingTooDeep(limit: Self.limit, pointer: pointer)) { try SchemaValidator(schema: schema) }
        #expect(SchemaValidationError.nestingTooDeep(limit: Self.limit, pointer: "/$defs/a126").description
                == "/$defs/a126: schema nests deeper than \(Self.limit) levels (counting subschemas and $ref links); refusing to follow it further")
    }

    @Test func referenceCyclesAreRefused() throws {
        #expect(throws: SchemaValidationError.referenceCycle(pointer: "")) { try SchemaValidator(schema: json(##"{"$ref":"#"}"##)) }
        #expect(throws: SchemaValidationError.referenceCycle(pointer: "/$defs/a")) {
            try SchemaValidator(schema: json(##"{"properties":{"x":{"$ref":"#/$defs/a"}},"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}}}"##))
        }
        // A reference back to the root that consumes input (a property) is a recursive schema, not a cycle.
        let tree = try SchemaValidator(schema: json(##"{"type":"object","properties":{"child":{"$ref":"#"},"n":{"type":"integer"}}}"##))
        #expect(tree.isValid(try json(#"{"child":{"child":{"n":1}}}"#)))
        #expect(!tree.isValid(try json(#"{"child":{"child":{"n":"1"}}}"#)))
    }

    /// A value nested deeper than the parser would ever produce, against a recursive schema: the check
    /// stops at the bound and reports the value invalid instead of recursing on.
    @Test func checkingAVeryDeepValueStopsAtTheBound() throws {
        let tree = try SchemaValidator(schema: json(##"{"type":"object","properties":{"child":{"$ref":"#"}}}"##))
        var value: JSONValue = .object([])
        for _ in 0..<1_000 { value = .object([("child", value)]) }
        let issues = tree.validate(value)
        #expect(issues.count == 1 && issues[0].message.contains("nest deeper than \(Self.limit) levels"), "\(issues.prefix(3))")
        var shallow: JSONValue = .object([])
        for _ in 0..<20 { shallow = .object([("child", shallow)]) }
        #expect(tree.isValid(shallow))
    }

    @Test func pathologicalPatternsValidateAtOnce() throws {
        let validator = try SchemaValidator(schema: json(#"{"type":"string","pattern":"^(a+)+$"}"#))
        #expect(!validator.isValid(.string(String(repeating: "a", count: 37) + "b")))
        #expect(validator.isValid(.string(String(repeating: "a", count: 37))))
        let nested = try SchemaValidator(schema: json(#"{"type":"string","pattern":"(x+x+)+y"}"#))
        #expect(!nested.isValid(.string(String(repeating: "x", count: 5_000))))
    }

    @Test func patternsTheRegexSyntaxCannotCompileAreLoadErrors() throws {
        let cases: [(String, String)] = [
            ("^(?=.*[0-9]).{8,}$", "lookahead assertions are not supported"),
            ("^(a*)\\1$", "backreferences are not supported"),
            (String(repeating: "(", count: 20_000) + ")", "groups nest deeper than \(Self.limit) levels at offset \(Self.limit + 1)"),
        ]
        for (pattern, reason) in cases {
            let schema = JSONValue.object([("properties", .object([("a", .object([("pattern", .string(pattern))]))]))])
            #expect(throws: SchemaValidationError.invalidPattern(pattern, reason: reason, pointer: "/properties/a/pattern")) {
                try SchemaValidator(schema: schema)
            }
        }
        // In a catalogue, the error names the tool's pointer.
        let catalogue = ##"[{"type":"function","function":{"name":"t","parameters":{"type":"object","properties":{"a":{"type":"string","pattern":"(?=x)"}}}}}]"##
        #expect(throws: CatalogueError.unsupportedSchema(.invalidPattern("(?=x)", reason: "lookahead assertions are not supported",
                                                                          pointer: "/properties/a/pattern"),
                                                         pointer: "/0/function/parameters/properties/a/pattern")) {
            try ToolCatalogue(json: json(catalogue))
        }
    }

    /// A catalogue built in code (the parser would refuse it) with a `const` nested 1,000 deep: refused
    /// before the prompt renderer or the grammar compiler could recurse through it.
    @Test func deeplyNestedValuesInACatalogueAreRefused() throws {
        var constant: JSONValue = .array([])
        for _ in 0..<1_000 { constant = .array([constant]) }
        let parameters = JSONValue.object([("type", .string("object")), ("properties", .object([("c", .object([("const", constant)]))]))])
        let catalogue = JSONValue.array([.object([("type", .string("function")),
                                                  ("function", .object([("name", .string("deep")), ("parameters", parameters)]))])])
        let prefix = "/0/function/parameters/properties/c/const"
        let pointer = prefix + String(repeating: "/0", count: Self.limit - 6)
        #expect(throws: CatalogueError.nestingTooDeep(limit: Self.limit, pointer: pointer)) { try ToolCatalogue(json: catalogue) }
    }
}
