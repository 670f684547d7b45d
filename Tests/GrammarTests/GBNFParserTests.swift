import Testing
@testable import Grammar

// Accept and reject tables for the GBNF parser. Helpers (`lit`, `seq`, ...) are in
// GrammarRecognizerTests.swift.

/// A valid snippet and the rules it should produce.
struct AcceptCase: Sendable, CustomTestStringConvertible {
    var text: String
    var rules: [GrammarRule]
    var testDescription: String { text.debugDescription }
}

/// An invalid snippet and its exact error.
struct RejectCase: Sendable, CustomTestStringConvertible {
    var text: String
    var error: GrammarError
    var testDescription: String { text.debugDescription }
}

private func root(_ body: GrammarExpr) -> [GrammarRule] { [rule("root", body)] }
private func syntax(_ line: Int, _ column: Int, _ message: String) -> GrammarError {
    .syntax(line: line, column: column, message: message)
}

let acceptCases: [AcceptCase] = [
    AcceptCase(text: #"root ::= "a""#, rules: root(lit("a"))),
    AcceptCase(text: #"root ::= "a" "b""#, rules: root(seq(lit("a"), lit("b")))),
    AcceptCase(text: "root ::= \"a\" | \"b\" c\nc ::= [x-z]",
               rules: [rule("root", alt(lit("a"), seq(lit("b"), ref("c")))), rule("c", cls(0x78...0x7A))]),
    AcceptCase(text: #"root ::= ("a" | "b")* "c"+ "d"? "e"{2} "f"{2,} "g"{2,5} "h"{ 1 , 3 } "i"{0} "j"{0,0}"#,
               rules: root(seq(rep(alt(lit("a"), lit("b")), 0, nil), rep(lit("c"), 1, nil), rep(lit("d"), 0, 1),
                               rep(lit("e"), 2, 2), rep(lit("f"), 2, nil), rep(lit("g"), 2, 5), rep(lit("h"), 1, 3),
                               rep(lit("i"), 0, 0), rep(lit("j"), 0, 0)))),
    AcceptCase(text: #"root ::= "\n\r\t\\\"\[\]\x41\u00e9\U0001F600""#, rules: root(lit("\n\r\t\\\"[]Aé😀"))),
    AcceptCase(text: #"root ::= [a-z0-9_] [^"\\] [\]\x2D] [a-] [-a] [\x00-\x1F]"#,
               rules: root(seq(cls(0x61...0x7A, 0x30...0x39, 0x5F...0x5F), cls(0x22...0x22, 0x5C...0x5C, negated: true),
                               cls(0x5D...0x5D, 0x2D...0x2D), cls(0x61...0x61, 0x2D...0x2D),
                               cls(0x2D...0x2D, 0x61...0x61), cls(0x00...0x1F)))),
    AcceptCase(text: #"root ::= . [^] []"#, rules: root(seq(.charClass(.any), .charClass(.any), cls()))),
    AcceptCase(text: #"root ::= [é-ü😀] "中文""#, rules: root(seq(cls(0xE9...0xFC, 0x1F600...0x1F600), lit("中文")))),
    AcceptCase(text: """
        # leading comment

        root ::= item+ # trailing comment
        item ::= (
          "a" |   # inside a group
          "b"
        ) | "c" |
          "d"
        """,
               rules: [rule("root", rep(ref("item"), 1, nil)),
                       rule("item", alt(alt(lit("a"), lit("b")), lit("c"), lit("d")))]),
    AcceptCase(text: "root ::=\n  \"a\"\n", rules: root(lit("a"))),
    AcceptCase(text: "root ::= x\r\nx ::= \"a\"\r\n", rules: [rule("root", ref("x")), rule("x", lit("a"))]),
    AcceptCase(text: "root ::= ()", rules: root(seq())),
    AcceptCase(text: "root ::= \"x\" | ", rules: root(alt(lit("x"), seq()))),
    AcceptCase(text: "root ::= \"\"", rules: root(lit(""))),
    AcceptCase(text: "root ::= (\"a\")", rules: root(lit("a"))),
    AcceptCase(text: "root ::= \"a\" (\"b\" \"c\")", rules: root(seq(lit("a"), seq(lit("b"), lit("c"))))),
    AcceptCase(text: "root ::= \"a\"*?", rules: root(rep(rep(lit("a"), 0, nil), 0, 1))),
    AcceptCase(text: "root ::= 2nd-rule\n2nd-rule ::= \"x\"", rules: [rule("root", ref("2nd-rule")), rule("2nd-rule", lit("x"))]),
    AcceptCase(text: "root   ::=   \"a\"\t", rules: root(lit("a"))),
    AcceptCase(text: "root ::= \"a\nb\"", rules: root(lit("a\nb"))),
    AcceptCase(text: "root ::= \"a\"#comment\n", rules: root(lit("a"))),
    AcceptCase(text: "root ::= \"\"*", rules: root(rep(lit(""), 0, nil))),
    AcceptCase(text: #"root ::= "\xE9" [\xE9] [^^]"#, rules: root(seq(lit("é"), cls(0xE9...0xE9), cls(0x5E...0x5E, negated: true)))),
    AcceptCase(text: "root ::= | \"a\"", rules: root(alt(seq(), lit("a")))),
]

let rejectCases: [RejectCase] = [
    RejectCase(text: #"root ::= "abc"#, error: syntax(1, 14, "expected '\"' to close literal")),
    RejectCase(text: "root ::= [a-z", error: syntax(1, 14, "expected ']' to close character class")),
    RejectCase(text: "root ::= [a-", error: syntax(1, 13, "expected ']' to close character class")),
    RejectCase(text: #"root ::= ("a""#, error: syntax(1, 14, "expected ')' to close group")),
    RejectCase(text: "root ::= \"a\"\n  | \"b\"", error: syntax(2, 3, "expected rule name")),
    RejectCase(text: #"root ::= * "a""#, error: syntax(1, 10, "expected an item before '*'")),
    RejectCase(text: #"root ::= "a" | {2}"#, error: syntax(1, 16, "expected an item before '{'")),
    RejectCase(text: #"root ::= "a"{,3}"#, error: syntax(1, 14, "expected an integer after '{'")),
    RejectCase(text: #"root ::= "a"{3,2}"#, error: syntax(1, 13, "repetition maximum 2 is below minimum 3")),
    RejectCase(text: #"root ::= "a"{2"#, error: syntax(1, 15, "expected ',' or '}' in repetition")),
    RejectCase(text: #"root ::= "a"{2,3"#, error: syntax(1, 17, "expected '}' to close repetition")),
    RejectCase(text: #"root ::= "a"{9999999}"#, error: syntax(1, 14, "repetition count exceeds 100000")),
    RejectCase(text: #"root ::= "\q""#, error: syntax(1, 11, "unknown escape '\\q'")),
    RejectCase(text: #"root ::= [\-]"#, error: syntax(1, 11, "unknown escape '\\-'")),
    RejectCase(text: #"root ::= "\x4""#, error: syntax(1, 11, "expected 2 hex digits after '\\x'")),
    RejectCase(text: #"root ::= "\u12G4""#, error: syntax(1, 11, "expected 4 hex digits after '\\u'")),
    RejectCase(text: #"root ::= "\uD800""#, error: syntax(1, 11, "escape U+D800 is not a Unicode scalar")),
    RejectCase(text: #"root ::= [z-a]"#, error: syntax(1, 11, "reversed range U+007A-U+0061 in character class")),
    RejectCase(text: #"root = "a""#, error: syntax(1, 6, "expected '::=' after rule name 'root'")),
    RejectCase(text: "root\n::= \"a\"", error: syntax(1, 5, "expected '::=' after rule name 'root'")),
    RejectCase(text: "root ::= \"a\"\nroot ::= \"b\"", error: syntax(2, 1, "duplicate rule 'root'")),
    RejectCase(text: #"root ::= "a" ) "b""#, error: syntax(1, 14, "unexpected ')' after rule body")),
    RejectCase(text: "root ::= !", error: syntax(1, 10, "unexpected '!' after rule body")),
    RejectCase(text: "root ::= \"a\" \u{1}", error: syntax(1, 14, "unexpected character U+0001 after rule body")),
    RejectCase(text: "::= \"a\"", error: syntax(1, 1, "expected rule name")),
    // An empty body runs on to the next line, which then reads as the body.
    RejectCase(text: "root ::=\nb ::= \"x\"", error: syntax(2, 3, "unexpected ':' after rule body")),
    RejectCase(text: "root ::= x\nx ::= \"a\" |\n  \"b\" [q-", error: syntax(3, 10, "expected ']' to close character class")),
    RejectCase(text: "root ::= \"a\"\r\nfoo ::= (\r\n\"b\"\r\n", error: syntax(4, 1, "expected ')' to close group")),
    RejectCase(text: "root ::= \"é😀\" ]", error: syntax(1, 15, "unexpected ']' after rule body")),
    RejectCase(text: "root ::= a b\na ::= \"x\"", error: .undefinedReference("b", line: 1, column: 12)),
    RejectCase(text: "root ::= \"x\"\n  # comment\nother ::= (\n  root | missing-rule)",
               error: .undefinedReference("missing-rule", line: 4, column: 10)),
    RejectCase(text: #"a ::= "x""#, error: .missingRoot("root")),
    RejectCase(text: "", error: .missingRoot("root")),
    RejectCase(text: "# only a comment\n\n", error: .missingRoot("root")),
]

@Suite struct GBNFParserTests {
    @Test(arguments: acceptCases)
    func accepts(_ example: AcceptCase) throws {
        let grammar = try GBNF.parse(example.text)
        #expect(grammar == Grammar(rules: example.rules))
        // Every parsed grammar is already in normal form, and prints stably.
        #expect(grammar.normalized == grammar)
        #expect(try GBNF.parse(GBNF.print(grammar)) == grammar)
    }

    @Test(arguments: rejectCases)
    func rejects(_ example: RejectCase) {
        #expect(throws: example.error) { try GBNF.parse(example.text) }
    }

    @Test func customRoot() throws {
        let grammar = try GBNF.parse("start ::= \"a\"", root: "start")
        #expect(grammar == Grammar(rules: [rule("start", lit("a"))], root: "start"))
    }

    @Test func ruleLibrariesNeedNoRoot() throws {
        let rules = try GBNF.parseRules("digit ::= [0-9]\nnumber ::= digit+\n")
        #expect(rules == [rule("digit", cls(0x30...0x39)), rule("number", rep(ref("digit"), 1, nil))])
        #expect(throws: GrammarError.undefinedReference("digit", line: 1, column: 12)) {
            try GBNF.parseRules("number ::= digit+")
        }
    }

    @Test func errorDescriptionHasPosition() {
        do {
            _ = try GBNF.parse("root ::= x\nx ::= \"a\"\ny ::= [abc")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "3:11: expected ']' to close character class")
        }
    }
}
