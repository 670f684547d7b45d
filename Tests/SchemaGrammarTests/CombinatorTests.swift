// `anyOf`, `oneOf`, `allOf`, local `$ref` (with recursion).

import JSON
import SchemaGrammar
import Testing

@Suite struct CombinatorTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"anyOf":[{"type":"integer","minimum":0,"maximum":9},{"type":"string","maxLength":1}]}"#,
              accept: ["0", "9", #""a""#], reject: ["10", #""ab""#, "null"]),
        .init(#"{"oneOf":[{"const":"a"},{"const":"b"}]}"#, accept: [#""a""#, #""b""#], reject: [#""c""#]),
        // Sibling keywords apply to every branch.
        .init(#"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"anyOf":[{"required":["a"]},{"required":["b"]}]}"#,
              accept: [#"{"a":1}"#, #"{"b":2}"#, #"{"a":1,"b":2}"#], reject: ["{}"]),
        .init(#"{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"]}]}"#,
              accept: [#"{"a":1,"b":"x"}"#], reject: [#"{"a":1}"#, #"{"b":"x"}"#, #"{"b":"x","a":1}"#]),
        .init(#"{"allOf":[{"type":"object","properties":{"n":{"type":"integer","minimum":0}}},{"properties":{"n":{"maximum":5}},"required":["n"]}]}"#,
              accept: [#"{"n":0}"#, #"{"n":5}"#], reject: [#"{"n":6}"#, #"{"n":-1}"#]),
        .init(#"{"allOf":[{"type":["integer","string"]},{"type":"integer"}],"maximum":3}"#, accept: ["3", "-7"], reject: ["4", #""s""#]),
        .init(#"{"allOf":[{"type":"number","minimum":0},{"type":["integer","null"],"maximum":10}]}"#, accept: ["0", "10"], reject: ["0.5", "11", "null"]),
        .init(##"{"allOf":[{"$ref":"#/$defs/base"},{"required":["id"]}],"$defs":{"base":{"type":"object","properties":{"id":{"type":"integer"}}}}}"##,
              accept: [#"{"id":1}"#], reject: ["{}"]),
        .init(##"{"$ref":"#/$defs/id","$defs":{"id":{"type":"string","maxLength":2}}}"##, accept: [##""ab""##], reject: [##""abc""##]),
        // Keywords beside $ref refine the target.
        .init(##"{"$ref":"#/$defs/id","maxLength":3,"$defs":{"id":{"type":"string","maxLength":5,"minLength":2}}}"##,
              accept: [##""abc""##], reject: [##""abcd""##, ##""a""##]),
        .init(##"{"type":"object","properties":{"x":{"$ref":"#/definitions/p"},"y":{"$ref":"#/definitions/p"}},"required":["x","y"],"definitions":{"p":{"enum":[1,2]}}}"##,
              accept: [#"{"x":1,"y":2}"#], reject: [#"{"x":3,"y":1}"#]),
        // Recursion: a tree whose children are optional has a finite completion.
        .init(##"{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v"]}}}"##,
              accept: [#"{"v":1}"#, #"{"v":1,"kids":[]}"#, #"{"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4}]}]}"#],
              reject: [#"{"kids":[]}"#, #"{"v":1,"kids":[{}]}"#]),
        .init(##"{"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"boolean"}},"required":["v"]}"##,
              accept: [#"{"v":true}"#, #"{"next":{"v":false},"v":true}"#], reject: [#"{"next":{},"v":true}"#]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    @Test func referenceRulesAreNamedAfterDefinitions() throws {
        let grammar = try compile(##"{"$ref":"#/$defs/tree_node","$defs":{"tree_node":{"type":"array","items":{"$ref":"#/$defs/tree_node"}}}}"##)
        #expect(grammar.rule(named: "defs-tree-node") != nil)
    }

    @Test func errors() throws {
        #expect(try compileError(##"{"$ref":"#/$defs/missing"}"##) == .unresolvedReference(ref: "#/$defs/missing", pointer: "/$ref"))
        #expect(try compileError(#"{"$ref":"other.json#/a"}"#) == .unresolvedReference(ref: "other.json#/a", pointer: "/$ref"))
        #expect(try compileError(#"{"allOf":[{"type":"string"},{"type":"integer"}]}"#)
            == .invalidSchema(pointer: "/allOf/1/type", reason: "allOf members have no type in common"))
        #expect(try compileError(#"{"allOf":[{"type":"string","pattern":"a"},{"pattern":"b"}]}"#)
            == .unsupportedKeyword(keyword: "pattern", pointer: "/allOf/1/pattern"))
        // Schemas that keep inlining themselves fail instead of looping.
        let selfAllOf = try compileError(##"{"$ref":"#/$defs/a","$defs":{"a":{"allOf":[{"$ref":"#/$defs/a"}]}}}"##)
        #expect(selfAllOf == .invalidSchema(pointer: "/$defs/a/allOf/0",
                                            reason: "allOf and $ref nest deeper than \(NestingLimit.depth) levels (does the schema refer to itself?)"))
        let selfAnyOf = try compileError(##"{"$ref":"#/$defs/a","$defs":{"a":{"type":["object","null"],"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}}}"##)
        guard case .invalidSchema? = selfAnyOf else {
            Issue.record("expected invalidSchema, got \(String(describing: selfAnyOf))")
            return
        }
        // Recursion with no way out: every instance would be infinite.
        let endless = try compileError(##"{"$ref":"#/$defs/a","$defs":{"a":{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}},"required":["a"]}}}"##)
        guard case .invalidSchema(let pointer, _)? = endless else {
            Issue.record("expected invalidSchema, got \(String(describing: endless))")
            return
        }
        #expect(pointer.hasPrefix("/$defs/a"))
    }
}
