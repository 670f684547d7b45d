// Schemas the validator must refuse at construction (it fails closed), and ECMA pattern details.

import Testing
import JSON
import ToolCalls

@Suite struct ValidatorSchemaTests {
    static let refused: [(schema: String, error: SchemaValidationError)] = [
        (#"{"minProperties":1}"#, .unsupportedKeyword("minProperties", pointer: "")),
        (#"{"properties":{"a":{"if":{}}}}"#, .unsupportedKeyword("if", pointer: "/properties/a")),
        (#"{"items":{"contains":{}}}"#, .unsupportedKeyword("contains", pointer: "/items")),
        (#"{"$defs":{"unused":{"patternProperties":{}}}}"#, .unsupportedKeyword("patternProperties", pointer: "/$defs/unused")),
        (#"{"anyOf":[{},{"multipleOf":2}]}"#, .unsupportedKeyword("multipleOf", pointer: "/anyOf/1")),
        (#"{"typo":"string"}"#, .unsupportedKeyword("typo", pointer: "")),
        ("[]", .notASchema(found: "an array", pointer: "")),
        (#"{"properties":{"a":1}}"#, .notASchema(found: "number 1", pointer: "/properties/a")),
        (#"{"type":"float"}"#, .invalidKeywordValue("type", reason: "unknown type string \"float\"", pointer: "/type")),
        (#"{"type":[]}"#, .invalidKeywordValue("type", reason: "expected a type name or a non-empty array of them", pointer: "/type")),
        (#"{"minLength":-1}"#, .invalidKeywordValue("minLength", reason: "expected a non-negative integer, found number -1", pointer: "/minLength")),
        (#"{"maxItems":1.5}"#, .invalidKeywordValue("maxItems", reason: "expected a non-negative integer, found number 1.5", pointer: "/maxItems")),
        (#"{"minimum":"0"}"#, .invalidKeywordValue("minimum", reason: "expected a number, found string \"0\"", pointer: "/minimum")),
        (#"{"required":["a",2]}"#, .invalidKeywordValue("required", reason: "expected strings, found number 2", pointer: "/required")),
        (#"{"anyOf":[]}"#, .invalidKeywordValue("anyOf", reason: "expected a non-empty array of schemas", pointer: "/anyOf")),
        (#"{"enum":"a"}"#, .invalidKeywordValue("enum", reason: "expected an array", pointer: "/enum")),
        (#"{"uniqueItems":1}"#, .invalidKeywordValue("uniqueItems", reason: "expected a boolean", pointer: "/uniqueItems")),
        (#"{"format":"ipv4"}"#, .unsupportedFormat("ipv4", pointer: "/format")),
        (##"{"$ref":"#/$defs/missing"}"##, .unresolvedReference("#/$defs/missing", pointer: "/$ref")),
        (#"{"$ref":"https://example.com/schema"}"#, .unresolvedReference("https://example.com/schema", pointer: "/$ref")),
        (##"{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}"##, .referenceCycle(pointer: "/$defs/a")),
        (##"{"$ref":"#"}"##, .referenceCycle(pointer: "")),
        (##"{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/b"}]},"b":{"not":{"$ref":"#/$defs/a"}}}}"##, .referenceCycle(pointer: "/$defs/a")),
    ]

    @Test(arguments: refused.indices)
    func refuses(_ index: Int) throws {
        let (text, expected) = Self.refused[index]
        let schema = try json(text)
        #expect(throws: expected) { try SchemaValidator(schema: schema) }
    }

    @Test func invalidPatternIsRefused() throws {
        #expect {
            try SchemaValidator(schema: json(#"{"pattern":"(unclosed"}"#))
        } throws: { error in
            guard case SchemaValidationError.invalidPattern("(unclosed", _, "/pattern") = error else { return false }
            return true
        }
    }

    @Test func unsupportedKeywordMessage() {
        let error = SchemaValidationError.unsupportedKeyword("if", pointer: "/properties/a")
        #expect(error.description == "/properties/a: unsupported keyword \"if\"")
    }

    @Test func patternsFollowECMASemantics() throws {
        let dollar = try SchemaValidator(schema: json(#"{"pattern":"^[a-z]+$"}"#))
        #expect(dollar.isValid(.string("abc")))
        #expect(!dollar.isValid(.string("abc\n")))
        let digits = try SchemaValidator(schema: json(#"{"pattern":"^\\d+$"}"#))
        #expect(digits.isValid(.string("123")))
        #expect(!digits.isValid(.string("١٢٣")))
        let word = try SchemaValidator(schema: json(#"{"pattern":"^[\\w-]+$"}"#))
        #expect(word.isValid(.string("a_b-9")))
        #expect(!word.isValid(.string("é")))
        let literalDollar = try SchemaValidator(schema: json(#"{"pattern":"^\\$[0-9]+[$]$"}"#))
        #expect(literalDollar.isValid(.string("$12$")))
    }

    @Test func validatorIsSendable() async throws {
        let validator = try SchemaValidator(schema: json(#"{"type":"string","pattern":"^a"}"#))
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 { group.addTask { validator.isValid(.string(index % 2 == 0 ? "abc" : "xyz")) } }
            var all: [Bool] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.filter { $0 }.count == 4)
    }
}
