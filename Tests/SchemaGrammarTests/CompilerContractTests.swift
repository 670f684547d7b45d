// The compiler's contract beyond single keywords: fail closed with the right pointer,
// determinism, the hand-written primitives file, and the demo catalogues.

import Foundation
import Grammar
import JSON
import SchemaGrammar
import Testing

@Suite struct UnsupportedKeywordTests {
    static let cases: [(schema: String, keyword: String, pointer: String)] = [
        (#"{"type":"object","properties":{"a":{"type":"string","contentEncoding":"base64"}}}"#, "contentEncoding", "/properties/a/contentEncoding"),
        (#"{"type":"object","patternProperties":{"^x":{}}}"#, "patternProperties", "/patternProperties"),
        (#"{"type":"object","propertyNames":{"maxLength":3}}"#, "propertyNames", "/propertyNames"),
        (#"{"type":"object","dependentRequired":{"a":["b"]}}"#, "dependentRequired", "/dependentRequired"),
        (#"{"type":"object","unevaluatedProperties":false}"#, "unevaluatedProperties", "/unevaluatedProperties"),
        (#"{"not":{"type":"string"}}"#, "not", "/not"),
        (#"{"if":{},"then":{},"else":{}}"#, "if", "/if"),
        (#"{"type":"array","items":{"type":"integer"},"uniqueItems":true}"#, "uniqueItems", "/uniqueItems"),
        (#"{"type":"array","contains":{"type":"integer"}}"#, "contains", "/contains"),
        (#"{"type":"array","items":[{"type":"integer"}]}"#, "items", "/items"),
        (#"{"type":"number","multipleOf":0.5}"#, "multipleOf", "/multipleOf"),
        (#"{"type":"object","properties":{"a":{}},"minProperties":1}"#, "minProperties", "/minProperties"),
        (#"{"type":"string","contentMediaType":"text/html"}"#, "contentMediaType", "/contentMediaType"),
        (#"{"type":"object","properties":{"a":{"type":"integer"}},"dependentSchemas":{}}"#, "dependentSchemas", "/dependentSchemas"),
        (#"{"anyOf":[{"type":"string"}],"oneOf":[{"type":"string"}]}"#, "oneOf", "/oneOf"),
        (#"{"type":"string","pattern":"a","format":"date"}"#, "pattern", "/pattern"),
        (#"{"type":"object","properties":{"a/b~c":{"type":"string","$anchor":"x"}}}"#, "$anchor", "/properties/a~1b~0c/$anchor"),
        (#"{"items":{"prefixItems":[{"type":"string","format":"hostname"}]}}"#, "format", "/items/prefixItems/0/format"),
    ]

    @Test(arguments: cases) func failsClosedWithPointer(_ testCase: (schema: String, keyword: String, pointer: String)) throws {
        let error = try compileError(testCase.schema)
        #expect(error == .unsupportedKeyword(keyword: testCase.keyword, pointer: testCase.pointer))
        #expect(error?.description.contains(testCase.keyword) == true)
    }

    @Test func malformedSchemasAreInvalid() throws {
        #expect(try compileError(#"{"type":"text"}"#) == .invalidSchema(pointer: "/type", reason: "unknown type \"text\""))
        #expect(try compileError(#"{"type":"object","properties":{"a":{}},"required":["b"]}"#)
            == .invalidSchema(pointer: "/required/0", reason: "required property \"b\" is not in properties (additional properties are not produced)"))
        #expect(try compileError(#"{"enum":[]}"#) == .invalidSchema(pointer: "/enum", reason: "enum must be a non-empty array"))
        #expect(try compileError("false") == .invalidSchema(pointer: "", reason: "the schema false admits no value"))
        #expect(try compileError("3") == .invalidSchema(pointer: "", reason: "a schema must be an object or a boolean"))
    }
}

@Suite struct DeterminismTests {
    static let schema = #"""
    {"type":"object","properties":{
      "id":{"type":"string","pattern":"^[A-Z]{2}-\\d+$","maxLength":12},
      "n":{"type":"integer","minimum":-40,"maximum":2024},
      "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":4},
      "when":{"type":"string","format":"date-time"},
      "tree":{"$ref":"#/$defs/t"},
      "any":{"anyOf":[{"type":"number","minimum":0},{"type":"null"}]}},
     "required":["id","n"],
     "$defs":{"t":{"type":"object","properties":{"k":{"type":"array","items":{"$ref":"#/$defs/t"}}}}}}
    """#

    @Test func sameSchemaGivesSameGrammar() throws {
        let first = try compile(Self.schema)
        let second = try compile(Self.schema)
        #expect(first == second)
        #expect(first.rules.first?.name == "root")
        #expect(Set(first.rules.map(\.name)).count == first.rules.count)
        _ = try GrammarRecognizer(first)
    }
}

@Suite struct PrimitivesTests {
    static var packageRoot: String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/SchemaGrammarTests/<file>
        return parts.joined(separator: "/")
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestJSON.Failure(description: "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func fileAndConstantAreByteIdentical() throws {
        let text = try Self.read(Self.packageRoot + "/grammars/json-primitives.gbnf")
        #expect(Array(text.utf8) == Array(JSONPrimitives.text.utf8))
    }

    @Test func primitiveRulesAreTheFilesRules() throws {
        let defined = JSONPrimitives.rules.map(\.name)
        let inText = JSONPrimitives.text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(" ::= ") }
            .map { String($0.prefix { $0 != " " }) }
        #expect(defined == inText)
    }

    @Test func handBuiltRulesEqualTheParsedFile() throws {
        let parsed = try GBNF.parseRules(JSONPrimitives.text)
        #expect(parsed.map(\.name) == JSONPrimitives.rules.map(\.name))
        for (file, built) in zip(parsed, JSONPrimitives.rules) {
            #expect(file.body.normalized == built.body.normalized, "rule \(file.name)")
        }
    }

    static let numberCases = ["0", "-1", "12", "0.5", "-0.25", "1e5", "1.5e-3", "999999999999999"]
    static let notNumbers = ["-0", "00", "1.", "1.0", "1E5", "1e+5", "1e05", "+1", "1000000000000000", "-"]

    @Test func primitivesRecognise() throws {
        func recognizer(_ root: String) throws -> GrammarRecognizer {
            try GrammarRecognizer(Grammar(rules: [GrammarRule(name: "root", body: .ruleRef(root))] + JSONPrimitives.rules))
        }
        let number = try recognizer("json-number")
        for text in Self.numberCases { #expect(number.matches(text) == true, "\(text)") }
        for text in Self.notNumbers { #expect(number.matches(text) == false, "\(text)") }
        let value = try recognizer("json-value")
        for text in [#"{"a":[1,2,{"b":null}],"c":"\u00e9"}"#, "[]", "true"] { #expect(value.matches(text) == true, "\(text)") }
        for text in [#"{"a": 1}"#, "[1 ,2]", "tru"] { #expect(value.matches(text) == false, "\(text)") }
    }
}

@Suite struct GBNFRoundTripTests {
    @Test func compiledGrammarsPrintAndParseBack() throws {
        for schema in [DeterminismTests.schema, #"{"type":"string","pattern":"^[^\\\"]{2}\\d+$"}"#] {
            let grammar = try compile(schema)
            let text = GBNF.print(grammar)
            let reparsed = try GBNF.parse(text)
            #expect(reparsed == grammar.normalized, "\(text)")
        }
    }
}

@Suite struct CatalogueTests {
    /// Every tool's `parameters` in the copied demo catalogues.
    static func toolSchemas(_ file: String) throws -> [(String, JSONValue)] {
        let text = try PrimitivesTests.read(PrimitivesTests.packageRoot + "/Tests/SchemaGrammarTests/Fixtures/" + file)
        return (try TestJSON.parse(text).arrayValue ?? []).compactMap { tool in
            guard let function = tool["function"], let name = function["name"]?.stringValue,
                  let parameters = function["parameters"] else { return nil }
            return (name, parameters)
        }
    }

    @Test(arguments: ["devops.tools.json", "support.tools.json"]) func everyToolCompiles(_ file: String) throws {
        let tools = try Self.toolSchemas(file)
        #expect(tools.count >= 4)
        for (name, schema) in tools {
            let grammar = try SchemaCompiler.compile(schema)
            _ = try GrammarRecognizer(grammar)
            #expect(grammar.root == "root", "\(name)")
            #expect(try GBNF.parse(GBNF.print(grammar)) == grammar.normalized, "\(name)")
        }
    }

    /// The shape of a whole call: one `anyOf` branch per tool, `{"tool":<name>,"arguments":{…}}`.
    @Test func wholeCallSchemaCompiles() throws {
        let tools = try Self.toolSchemas("devops.tools.json")
        let branches: [JSONValue] = tools.map { name, parameters in
            .object([
                (key: "type", value: .string("object")),
                (key: "properties", value: .object([
                    (key: "tool", value: .object([(key: "const", value: .string(name))])),
                    (key: "arguments", value: parameters),
                ])),
                (key: "required", value: .array([.string("tool"), .string("arguments")])),
                (key: "additionalProperties", value: .bool(false)),
            ])
        }
        let grammar = try SchemaCompiler.compile(.object([(key: "anyOf", value: .array(branches))]))
        let recognizer = try GrammarRecognizer(grammar)
        #expect(recognizer.matches(#"{"tool":"scale_deployment","arguments":{"name":"web","replicas":3}}"#))
        #expect(recognizer.matches(#"{"tool":"restart_service","arguments":{"service":"db","force":true}}"#))
        #expect(!recognizer.matches(#"{"tool":"restart_service","arguments":{"name":"web","replicas":3}}"#))
        #expect(!recognizer.matches(#"{"arguments":{"service":"db"},"tool":"restart_service"}"#))
    }

    @Test func sampleCallsMatch() throws {
        let tools = Dictionary(uniqueKeysWithValues: try Self.toolSchemas("support.tools.json") + Self.toolSchemas("devops.tools.json"))
        func recognizer(_ name: String) throws -> GrammarRecognizer {
            try GrammarRecognizer(SchemaCompiler.compile(tools[name] ?? .null))
        }
        let refund = try recognizer("request_refund")
        #expect(refund.matches(#"{"order_id":"ORD-1234","reason":"broken on arrival","amount":12.5}"#))
        #expect(refund.matches(#"{"order_id":"ORD-1234","reason":"late"}"#))
        #expect(!refund.matches(#"{"order_id":"ORD-12","reason":"late"}"#))
        #expect(!refund.matches(#"{"order_id":"ORD-1234","reason":"late","amount":-1}"#))
        let address = try recognizer("update_address")
        #expect(address.matches(#"{"order_id":"ORD-55555","address":{"street":"1 Main St","city":"Oslo","postal_code":"0150","country":"NO"}}"#))
        #expect(!address.matches(#"{"order_id":"ORD-55555","address":{"street":"1 Main St","city":"Oslo","postal_code":"0150","country":"no"}}"#))
        let logs = try recognizer("query_logs")
        #expect(logs.matches(#"{"service":"api-gw","since_minutes":1440,"level":"warn"}"#))
        #expect(!logs.matches(#"{"service":"api-gw","since_minutes":1441}"#))
        let ticket = try recognizer("create_ticket")
        #expect(ticket.matches(#"{"title":"Disk full","labels":["ops","disk-space"]}"#))
        #expect(!ticket.matches(#"{"title":"Disk full","labels":["a","b","c","d","e","f"]}"#))
    }
}
