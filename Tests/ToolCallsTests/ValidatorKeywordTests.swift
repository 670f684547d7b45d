// JSON Schema Test Suite–style tables: for each keyword, a schema with instances that must
// validate and instances that must not.

import Testing
import JSON
import ToolCalls

struct KeywordCase: CustomTestStringConvertible, Sendable {
    let name: String
    let schema: String
    let valid: [String]
    let invalid: [String]
    var testDescription: String { name }
}

let keywordCases: [KeywordCase] = [
    KeywordCase(name: "type string", schema: #"{"type":"string"}"#,
                valid: [#""""#, #""a""#], invalid: ["1", "null", "[]", "{}", "true"]),
    KeywordCase(name: "type integer accepts 1.0", schema: #"{"type":"integer"}"#,
                valid: ["1", "1.0", "-0", "1e2", "12345678901234567890123", "2.50e1"], invalid: ["1.5", "1e-1", "\"1\"", "null", "12345678901234567890.5"]),
    KeywordCase(name: "type number", schema: #"{"type":"number"}"#,
                valid: ["1", "1.5", "-1e-9"], invalid: ["\"1\"", "true", "[1]"]),
    KeywordCase(name: "type list", schema: #"{"type":["string","null"]}"#,
                valid: ["null", #""x""#], invalid: ["0", "false", "{}"]),
    KeywordCase(name: "type boolean, array, object", schema: #"{"anyOf":[{"type":"boolean"},{"type":"array"},{"type":"object"}]}"#,
                valid: ["true", "[]", "{}"], invalid: ["0", "null", "\"\""]),
    KeywordCase(name: "boolean schemas", schema: #"{"properties":{"yes":true,"no":false}}"#,
                valid: [#"{"yes":[1]}"#, "{}"], invalid: [#"{"no":1}"#, #"{"no":null}"#]),
    KeywordCase(name: "properties", schema: #"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}}}"#,
                valid: [#"{"a":1,"b":"x"}"#, "{}", #"{"c":[]}"#, "[1]", "\"not an object\""], invalid: [#"{"a":"1"}"#, #"{"a":1,"b":2}"#]),
    KeywordCase(name: "required", schema: #"{"required":["a","b"]}"#,
                valid: [#"{"a":1,"b":null}"#, "[]", "12"], invalid: ["{}", #"{"a":1}"#, #"{"b":1,"c":1}"#]),
    KeywordCase(name: "additionalProperties false", schema: #"{"properties":{"a":{}},"additionalProperties":false}"#,
                valid: ["{}", #"{"a":[1]}"#], invalid: [#"{"b":1}"#, #"{"a":1,"A":2}"#]),
    KeywordCase(name: "additionalProperties schema", schema: #"{"properties":{"a":{}},"additionalProperties":{"type":"boolean"}}"#,
                valid: [#"{"a":1,"b":true}"#], invalid: [#"{"b":1}"#]),
    KeywordCase(name: "enum", schema: #"{"enum":["low","normal",1,null,{"k":[1]}]}"#,
                valid: [#""low""#, "1", "1.0", "null", #"{"k":[1.0]}"#], invalid: [#""LOW""#, "2", "false", #"{"k":[1],"j":1}"#, "[]"]),
    KeywordCase(name: "const with number equality", schema: #"{"const":{"a":1,"b":[2]}}"#,
                valid: [#"{"a":1,"b":[2]}"#, #"{"b":[2.0],"a":1e0}"#], invalid: [#"{"a":1}"#, #"{"a":1,"b":[2,2]}"#, #"{"a":true,"b":[2]}"#]),
    KeywordCase(name: "const string by code points", schema: #"{"const":"é"}"#,
                valid: [#""é""#, #""\u00e9""#], invalid: ["\"e\u{301}\"", #""e""#]),
    KeywordCase(name: "const false is not 0", schema: #"{"const":false}"#,
                valid: ["false"], invalid: ["0", "null", "\"\""]),
    KeywordCase(name: "anyOf", schema: #"{"anyOf":[{"type":"integer"},{"type":"string","minLength":2}]}"#,
                valid: ["1", #""ab""#, "2.0"], invalid: ["1.5", #""a""#, "null"]),
    KeywordCase(name: "oneOf exactly one", schema: #"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#,
                valid: ["1", "2.5"], invalid: ["3", "1.5"]),
    KeywordCase(name: "allOf", schema: #"{"allOf":[{"type":"string"},{"maxLength":3}]}"#,
                valid: [#""abc""#], invalid: [#""abcd""#, "1"]),
    KeywordCase(name: "not", schema: #"{"not":{"type":"null"}}"#,
                valid: ["1", "\"\"", "{}"], invalid: ["null"]),
    KeywordCase(name: "$ref to $defs", schema: ##"{"$defs":{"id":{"type":"string","pattern":"^[a-z]+$"}},"properties":{"a":{"$ref":"#/$defs/id"}}}"##,
                valid: [#"{"a":"abc"}"#], invalid: [#"{"a":"ABC"}"#, #"{"a":1}"#]),
    KeywordCase(name: "$ref to definitions", schema: ##"{"definitions":{"n":{"type":"integer"}},"items":{"$ref":"#/definitions/n"}}"##,
                valid: ["[1,2]"], invalid: [#"[1,"2"]"#]),
    KeywordCase(name: "recursive $ref", schema: ##"{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}},"additionalProperties":false}"##,
                valid: [#"{"name":"root","children":[{"name":"leaf"},{"children":[]}]}"#],
                invalid: [#"{"children":[{"children":[{"name":5}]}]}"#, #"{"children":[{"extra":1}]}"#]),
    KeywordCase(name: "$ref with escaped pointer", schema: ##"{"$defs":{"a/b":{"type":"null"},"c~d":{"type":"boolean"}},"prefixItems":[{"$ref":"#/$defs/a~1b"},{"$ref":"#/$defs/c~0d"}]}"##,
                valid: ["[null,true]"], invalid: ["[1]", "[null,1]"]),
    KeywordCase(name: "pattern is unanchored", schema: #"{"pattern":"[0-9]{3}"}"#,
                valid: [#""ab123cd""#, "12"], invalid: [#""ab12""#]),
    KeywordCase(name: "pattern anchored", schema: #"{"pattern":"^ORD-[0-9]{4,8}$"}"#,
                valid: [#""ORD-1234""#, #""ORD-12345678""#], invalid: [#""ORD-123""#, #""ORD-123456789""#, #"" ORD-1234""#, #""ORD-1234\n""#]),
    KeywordCase(name: "pattern with non-ASCII", schema: #"{"pattern":"^.{2}$"}"#,
                valid: [#""日本""#, "\"é😀\""], invalid: [#""日本語""#]),
    KeywordCase(name: "minLength and maxLength count code points", schema: #"{"minLength":2,"maxLength":3}"#,
                valid: [#""ab""#, #""日本語""#, "\"😀😀\"", "\"e\u{301}\"", "5"], invalid: [#""a""#, "\"😀\"", #""abcd""#, #""""#]),
    KeywordCase(name: "minimum and maximum", schema: #"{"minimum":0,"maximum":100}"#,
                valid: ["0", "-0", "100", "100.0", "1e2", "0.5", "\"x\""], invalid: ["-1", "-0.0001", "100.0000001", "1e3"]),
    KeywordCase(name: "exact integer bounds", schema: #"{"maximum":9007199254740993}"#,
                valid: ["9007199254740993", "9007199254740992"], invalid: ["9007199254740994", "9007199254740993.5", "1e17"]),
    KeywordCase(name: "huge exponents", schema: #"{"minimum":1e999999999999999999999,"exclusiveMaximum":1e999999999999999}"#,
                valid: [], invalid: ["1e308", "-1e999999999999999999999", "1e-999999999999999999999", "1e999999999999999"]),
    KeywordCase(name: "large exponents compare exactly", schema: #"{"minimum":1e99999999999999,"maximum":2e99999999999999}"#,
                valid: ["1e99999999999999", "15e99999999999998", "2.0e99999999999999"], invalid: ["1e99999999999998", "2.01e99999999999999", "1e100000000000000"]),
    KeywordCase(name: "exclusive bounds", schema: #"{"exclusiveMinimum":1.5,"exclusiveMaximum":3}"#,
                valid: ["2", "1.50001", "2.999"], invalid: ["1.5", "15e-1", "3", "3.0", "0"]),
    KeywordCase(name: "negative bounds", schema: #"{"minimum":-10.5,"maximum":-2}"#,
                valid: ["-10.5", "-2", "-2.0", "-5"], invalid: ["-10.6", "-1", "0", "2"]),
    KeywordCase(name: "items", schema: #"{"items":{"type":"string"}}"#,
                valid: ["[]", #"["a","b"]"#, "{}"], invalid: [#"["a",1]"#]),
    KeywordCase(name: "prefixItems then items", schema: #"{"prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"null"}}"#,
                valid: ["[1]", #"[1,"a"]"#, #"[1,"a",null,null]"#, "[]"], invalid: [#"["a"]"#, #"[1,"a",1]"#]),
    KeywordCase(name: "items false after prefixItems", schema: #"{"prefixItems":[{}],"items":false}"#,
                valid: ["[]", "[1]"], invalid: ["[1,2]"]),
    KeywordCase(name: "minItems and maxItems", schema: #"{"minItems":1,"maxItems":2}"#,
                valid: ["[1]", "[1,2]", "\"\""], invalid: ["[]", "[1,2,3]"]),
    KeywordCase(name: "uniqueItems", schema: #"{"uniqueItems":true}"#,
                valid: ["[]", "[1,2]", #"[{"a":1},{"a":2}]"#, "[1,true]", "[0,false]", "[[1],[true]]"],
                invalid: ["[1,1]", "[1,1.0]", #"[{"a":1,"b":2},{"b":2,"a":1}]"#, #"["x","x"]"#, "[[1],[1]]"]),
    KeywordCase(name: "annotations are ignored", schema: #"{"title":"t","description":"d","default":5,"examples":[1],"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"x","$comment":"c","type":"integer"}"#,
                valid: ["5"], invalid: ["\"5\""]),
]

@Suite struct ValidatorKeywordTests {
    @Test(arguments: keywordCases)
    func keyword(_ testCase: KeywordCase) throws {
        let validator = try SchemaValidator(schema: json(testCase.schema))
        for text in testCase.valid {
            let issues = validator.validate(try json(text))
            #expect(issues.isEmpty, "\(testCase.name): \(text) should be valid: \(issues)")
        }
        for text in testCase.invalid {
            #expect(!validator.validate(try json(text)).isEmpty, "\(testCase.name): \(text) should be invalid")
        }
    }

    @Test func issuesCarryPointersAndMessages() throws {
        let validator = try SchemaValidator(schema: json(#"""
            {"type":"object","properties":{"user":{"type":"object","properties":{"age":{"type":"integer","minimum":0}},
             "required":["name"],"additionalProperties":false}}}
            """#))
        let issues = validator.validate(try json(#"{"user":{"age":-1,"nick":"x"}}"#))
        #expect(issues == [
            ValidationIssue(instancePointer: "/user", schemaPointer: "/properties/user/required", message: "missing required property \"name\""),
            ValidationIssue(instancePointer: "/user/age", schemaPointer: "/properties/user/properties/age/minimum", message: "-1 is less than the minimum 0"),
            ValidationIssue(instancePointer: "/user/nick", schemaPointer: "/properties/user/additionalProperties", message: "property \"nick\" is not allowed"),
        ])
        #expect(issues[1].description == "/user/age: -1 is less than the minimum 0 (schema /properties/user/properties/age/minimum)")
    }

    @Test func typeMessage() throws {
        let validator = try SchemaValidator(schema: json(#"{"items":{"type":["integer","null"]}}"#))
        #expect(validator.validate(try json(#"[1,"a~/b"]"#)) == [
            ValidationIssue(instancePointer: "/1", schemaPointer: "/items/type", message: "expected one of integer, null, found string \"a~/b\""),
        ])
    }

    @Test func instancePointersEscapeKeys() throws {
        let validator = try SchemaValidator(schema: json(#"{"additionalProperties":{"type":"null"}}"#))
        #expect(validator.validate(try json(#"{"a/b~c":1}"#)).map(\.instancePointer) == ["/a~1b~0c"])
    }

    @Test func oneOfMessageNamesMatches() throws {
        let validator = try SchemaValidator(schema: json(#"{"oneOf":[{"type":"integer"},{"minimum":2},{"type":"number"}]}"#))
        #expect(validator.validate(try json("3")).map(\.message) == ["value must match exactly one of the 3 alternatives, matches alternatives 0, 1, 2"])
    }
}
