// Arrays: `items`, `prefixItems`, `minItems`, `maxItems`, the default maximum.

import SchemaGrammar
import Testing

@Suite struct ArrayTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"array","items":{"type":"integer"},"maxItems":3}"#,
              accept: ["[]", "[1]", "[1,2]", "[1,2,3]"], reject: ["[1,2,3,4]", "[1,]", "[,1]", "[1, 2]", "[\"a\"]"]),
        .init(#"{"type":"array","items":{"type":"boolean"},"minItems":2,"maxItems":3}"#,
              accept: ["[true,false]", "[true,true,true]"], reject: ["[]", "[true]", "[true,true,true,true]"]),
        .init(#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]}"#,
              accept: ["[]", "[\"a\"]", "[\"a\",1]"], reject: ["[1]", "[\"a\",1,2]", "[\"a\",\"b\"]"]),
        .init(#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"minItems":2}"#,
              accept: ["[\"a\",1]"], reject: ["[\"a\"]"]),
        .init(#"{"type":"array","prefixItems":[{"type":"string"}],"items":{"type":"null"},"minItems":1,"maxItems":3}"#,
              accept: ["[\"a\"]", "[\"a\",null]", "[\"a\",null,null]"], reject: ["[]", "[null]", "[\"a\",null,null,null]", "[\"a\",\"b\"]"]),
        .init(#"{"type":"array","prefixItems":[{"const":1},{"const":2},{"const":3}],"minItems":1,"maxItems":2}"#,
              accept: ["[1]", "[1,2]"], reject: ["[1,2,3]", "[]"]),
        .init(#"{"type":"array","items":false}"#, accept: ["[]"], reject: ["[1]"]),
        .init(#"{"type":"array","maxItems":0}"#, accept: ["[]"], reject: ["[1]"]),
        .init(#"{"type":"array","items":{"type":"array","items":{"type":"integer"},"maxItems":2},"maxItems":2}"#,
              accept: ["[[],[1,2]]", "[[3]]"], reject: ["[[1,2,3]]", "[[],[],[]]"]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    @Test func defaultMaximumComesFromOptions() throws {
        var options = SchemaCompilerOptions()
        options.defaultMaxItems = 2
        try check(.init(#"{"type":"array","items":{"type":"integer"}}"#, accept: ["[1,2]"], reject: ["[1,2,3]"]), options: options)
        let sixtyFour = "[" + Array(repeating: "0", count: 64).joined(separator: ",") + "]"
        try check(.init(#"{"type":"array","items":{"type":"integer"}}"#, accept: [sixtyFour], reject: ["[0," + sixtyFour.dropFirst()]))
    }

    @Test func impossibleCountsAreInvalid() throws {
        #expect(try compileError(#"{"type":"array","minItems":3,"maxItems":2}"#)
            == .invalidSchema(pointer: "", reason: "minItems 3 exceeds the items allowed (2)"))
    }
}
