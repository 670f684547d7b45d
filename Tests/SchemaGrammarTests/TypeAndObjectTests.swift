// `type`, `enum`, `const`, annotations, `properties`, `required`, `additionalProperties`.

import Grammar
import JSON
import SchemaGrammar
import Testing

@Suite struct TypeTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"null"}"#, accept: ["null"], reject: ["nul", "\"null\"", "0", ""]),
        .init(#"{"type":"boolean"}"#, accept: ["true", "false"], reject: ["True", "1", "null"]),
        .init(#"{"type":"integer"}"#, accept: ["0", "-1", "42", "999999999999999"],
              reject: ["-0", "007", "1.0", "1e3", "+1", "1000000000000000", ""]),
        .init(#"{"type":"number"}"#, accept: ["0", "-0.5", "3.14", "1e10", "2.5e-3", "-12"],
              reject: ["-0", "1.", ".5", "1.50", "01", "1E5", "1e+5", "NaN"]),
        .init(#"{"type":"string"}"#, accept: [#""""#, #""hi""#, #""a\"b""#, #""\u00e9\n""#],
              reject: [#""a"b""#, "hi", #""\x""#]),
        .init(#"{"type":"array"}"#, accept: ["[]", "[1,\"a\",null]", "[[],{}]"], reject: ["[1, 2]", "[,]", "[1,]"]),
        .init(#"{"type":"object"}"#, accept: ["{}"], reject: [#"{"a":1}"#, "{ }"]),
        .init(#"{"type":["string","null"]}"#, accept: ["null", #""x""#], reject: ["1", "true"]),
        .init(#"{"type":["integer","boolean"],"minimum":1,"maximum":3}"#, accept: ["1", "3", "true"], reject: ["0", "4", "null"]),
        .init(#"{}"#, accept: ["null", "1", #"{"a":[1,{"b":"c"}]}"#, #""s""#], reject: ["{ }", "[1, 2]", ""]),
        .init("true", accept: ["null", "[true]"], reject: ["nope"]),
        .init(#"{"description":"d","title":"t","default":1,"examples":[1],"$comment":"c","type":"integer"}"#,
              accept: ["5"], reject: [#""5""#]),
        .init(#"{"minLength":2}"#, accept: [#""ab""#], reject: ["12", #""a""#]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }
}

@Suite struct EnumConstTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"enum":["low","normal","urgent"]}"#, accept: [#""low""#, #""urgent""#], reject: [#""high""#, "low", #""Low""#]),
        .init(#"{"enum":[1,"a",null,true,[1,2],{"k":"v"}]}"#,
              accept: ["1", #""a""#, "null", "true", "[1,2]", #"{"k":"v"}"#], reject: ["[1, 2]", "false", #"{"k": "v"}"#]),
        .init(#"{"enum":["say \"hi\"","back\\slash","line\nbreak"]}"#,
              accept: [#""say \"hi\"""#, #""back\\slash""#, #""line\nbreak""#], reject: [#""say "hi"""#]),
        .init(#"{"type":"string","enum":["a",1,"b"]}"#, accept: [#""a""#, #""b""#], reject: ["1"]),
        .init(#"{"const":"fixed"}"#, accept: [#""fixed""#], reject: [#""other""#]),
        .init(#"{"const":{"a":[1,true]}}"#, accept: [#"{"a":[1,true]}"#], reject: [#"{"a":[1, true]}"#]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }
}

@Suite struct CanonicalWriterAgreementTests {
    /// `enum`/`const` values come out exactly as the JSON target's canonical writer writes them.
    @Test func constMatchesJSONWriter() throws {
        let values: [JSONValue] = [
            .string("quote \" backslash \\ slash / tab \t nl \n ctl \u{1} \u{1F} é 😀"),
            .object([(key: "k\"", value: .array([.null, .bool(true), .number(JSONNumber(literal: "-1.5e3"))]))]),
        ]
        for value in values {
            let grammar = try SchemaCompiler.compile(.object([(key: "const", value: value)]))
            let matched = try GrammarRecognizer(grammar).matches(JSONWriter.compact(value))
            #expect(matched, "\(JSONWriter.compact(value))")
        }
    }
}

@Suite struct ObjectTests {
    static let cases: [AcceptRejectCase] = [
        // Required and optional members in properties order; commas right whatever is left out.
        .init(#"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},"c":{"type":"null"}},"required":["b"]}"#,
              accept: [#"{"b":true}"#, #"{"a":1,"b":true}"#, #"{"b":false,"c":null}"#, #"{"a":1,"b":true,"c":null}"#],
              reject: ["{}", #"{"a":1}"#, #"{"b":true,"a":1}"#, #"{"a":1,,"b":true}"#, #"{,"b":true}"#,
                       #"{"b":true,}"#, #"{ "b":true}"#, #"{"b": true}"#, #"{"b":true,"d":1}"#]),
        .init(#"{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"},"z":{"type":"integer"}}}"#,
              accept: ["{}", #"{"x":1}"#, #"{"y":2}"#, #"{"z":3}"#, #"{"x":1,"z":3}"#, #"{"y":2,"z":3}"#, #"{"x":1,"y":2,"z":3}"#],
              reject: [#"{"z":3,"x":1}"#, #"{"x":1,"x":1}"#, #"{"x":1"y":2}"#]),
        .init(#"{"type":"object","properties":{"p":{"type":"string"},"q":{"type":"string"}},"required":["p","q"],"additionalProperties":false}"#,
              accept: [#"{"p":"","q":"x"}"#], reject: [#"{"p":""}"#, #"{"q":"x","p":""}"#]),
        .init(#"{"type":"object","properties":{"a b/\"c":{"const":1}},"required":["a b/\"c"]}"#,
              accept: [#"{"a b/\"c":1}"#], reject: [#"{"a b/"c":1}"#]),
        .init(#"{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}"#,
              accept: [#"{"a":1}"#, "{}"], reject: [#"{"a":1,"b":2}"#]),
        // A schema for additionalProperties without properties: a map.
        .init(#"{"type":"object","additionalProperties":{"type":"integer"},"maxProperties":2}"#,
              accept: ["{}", #"{"k":1}"#, #"{"k":1,"j":-2}"#], reject: [#"{"k":"v"}"#, #"{"a":1,"b":2,"c":3}"#]),
        // A schema for additionalProperties beside properties: extra members after the listed ones,
        // with keys other than the listed names.
        .init(#"{"type":"object","properties":{"ab":{"type":"integer"},"b\"":{"type":"integer"}},"additionalProperties":{"type":"string"}}"#,
              accept: ["{}", #"{"ab":1}"#, #"{"x":"s"}"#, #"{"a":"s","abc":"t"}"#, #"{"ab":1,"b\"":2,"c":"s"}"#, #"{"b\"":2,"ba":""}"#,
                       #"{"":"e"}"#, #"{"b":"s"}"#, #"{"a\nb":"s"}"#],
              reject: [#"{"ab":"s"}"#, #"{"b\"":"s"}"#, #"{"x":"s","ab":1}"#, #"{"x":1}"#, #"{"\u0061b":"s"}"#, #"{"ab":1,"ab":"s"}"#]),
        .init(#"{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":{"type":"null"}}"#,
              accept: [#"{"id":1}"#, #"{"id":1,"x":null,"y":null}"#], reject: [#"{"x":null}"#, #"{"x":null,"id":1}"#, #"{"id":1,"id":null}"#]),
        .init(#"{"type":"object","additionalProperties":{"type":"boolean"},"minProperties":1}"#,
              accept: [#"{"k":true}"#], reject: ["{}"]),
        .init(#"{"type":"object","properties":{"inner":{"type":"object","properties":{"v":{"type":"integer"}},"required":["v"]}},"required":["inner"]}"#,
              accept: [#"{"inner":{"v":3}}"#], reject: [#"{"inner":{}}"#, #"{"inner":3}"#]),
        .init(#"{"properties":{"k":{"type":"integer"}},"required":["k"]}"#, accept: [#"{"k":1}"#], reject: ["{}", "1"]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    @Test func ruleNamesComeFromPaths() throws {
        let grammar = try compile(#"{"type":"object","properties":{"order_id":{"type":"string"},"Ship To":{"type":"object","properties":{"zip":{"type":"string"}}}}}"#)
        let names = grammar.rules.map(\.name)
        #expect(names.contains("root"))
        #expect(names.contains("root-order-id"))
        #expect(names.contains("root-Ship-To"))
        #expect(names.contains("root-Ship-To-zip"))
        #expect(grammar.root == "root")
        for name in names {
            #expect(!name.isEmpty && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        }
    }

    @Test func clashingNamesAreDeduplicated() throws {
        let grammar = try compile(#"{"type":"object","properties":{"a_b":{"type":"string"},"a-b":{"type":"integer"}}}"#)
        let names = grammar.rules.map(\.name)
        #expect(names.contains("root-a-b"))
        #expect(names.contains("root-a-b-2"))
        #expect(Set(names).count == names.count)
    }
}
