import Testing
@testable import Grammar

@Suite struct MinimumLengthsTests {
    private func lengths(_ gbnf: String) throws -> [String: Int] {
        minimumLengths(of: try GBNF.parse(gbnf))
    }

    @Test func literalsCountUTF8Bytes() throws {
        let result = try lengths("""
            root ::= "ab" | "c"
            e ::= "é"
            emoji ::= "😀" "x"
            empty ::= ""
            """)
        #expect(result == ["root": 1, "e": 2, "emoji": 5, "empty": 0])
    }

    @Test func classesUseTheirNarrowestScalar() throws {
        let result = try lengths(#"""
            root ::= .
            latin ::= [é-ü]
            high ::= [^\x00-\x7F]
            mixed ::= [😀a]
            cjk ::= [^\x00-\u07FF]
            surrogate-edge ::= [\uD800-\uE000]
            astral ::= [^\x00-\uFFFF]
            """#)
        #expect(result == ["root": 1, "latin": 2, "high": 2, "mixed": 1, "cjk": 3, "surrogate-edge": 3, "astral": 4])
    }

    @Test func emptyClassesNeverMatch() throws {
        let result = try lengths(#"""
            root ::= [] | "a"
            none ::= []
            surrogates ::= [\uD800-\uDFFF]
            everything ::= [^\x00-\U0010FFFF]
            """#)
        #expect(result == ["root": 1])
    }

    @Test func repeats() throws {
        let result = try lengths("""
            root ::= "ab"{3} "c"* "d"+ "e"? "f"{2,} ("g" "h"){0,4}
            """)
        #expect(result == ["root": 6 + 0 + 1 + 0 + 2 + 0])
    }

    @Test func recursion() throws {
        let result = try lengths("""
            root ::= list
            list ::= item | item "," list
            item ::= [0-9]+
            expr ::= expr "+" item | item "!"
            loop ::= "x" loop
            uses-loop ::= loop | "yy"
            only-loop ::= "a" loop
            ping ::= "p" pong | "."
            pong ::= "q" ping
            """)
        #expect(result == ["root": 1, "list": 1, "item": 1, "expr": 2, "uses-loop": 2, "ping": 1, "pong": 2])
        #expect(result["loop"] == nil && result["only-loop"] == nil)
    }

    @Test func lengthsAgreeWithTheRecognizer() throws {
        let grammar = try GBNF.parse(jsonGBNF)
        let result = minimumLengths(of: grammar)
        #expect(result == ["root": 1, "value": 1, "object": 2, "member": 4, "array": 2,
                           "string": 2, "number": 1, "ws": 0])
        let recognizer = try GrammarRecognizer(grammar)
        #expect(recognizer.matches("0"))
        #expect(!recognizer.matches(""))
    }

    @Test func undefinedReferencesAndIRShapes() {
        let grammar = Grammar(rules: [
            rule("root", alt(ref("missing"), seq(lit("ab"), alt()))),
            rule("big", rep(lit("x"), Int.max, nil)),
            rule("empty", seq()),
        ])
        #expect(minimumLengths(of: grammar) == ["big": Int.max, "empty": 0])
    }
}
