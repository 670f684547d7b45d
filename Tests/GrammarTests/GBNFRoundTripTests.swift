import Testing
import TestSupport
@testable import Grammar

// Printer round trips over random IR, and a hand-written JSON grammar checked end to end.

/// The shared seeded generator, under the name these tests use.
typealias SeededGenerator = SeededRandom

/// Random grammars, including awkward characters, empty sequences and nested repeats.
struct RandomGrammars {
    var rng: SeededGenerator
    let names = ["root", "a", "rule-2", "X9", "-dash-", "007"]
    var scalars: [UInt32] = [0x61, 0x7A, 0x22, 0x5C, 0x5D, 0x5B, 0x5E, 0x2D, 0x2E, 0x23, 0x7C, 0x28, 0x29, 0x20,
                             0x0A, 0x0D, 0x09, 0x00, 0x1F, 0x7F, 0x85, 0xA0, 0xE9, 0x301, 0x2028, 0xFEFF, 0x4E2D,
                             0x1F600, 0x10FFFF, 0xE000]
    /// Class bounds may also be values no string can hold.
    var classExtras: [UInt32] = [0xD800, 0xDFFF, 0x110000, 0xFFFF_FFFF]

    mutating func grammar() -> Grammar {
        let count = Int.random(in: 1...names.count, using: &rng)
        let rules = names.prefix(count).map { GrammarRule(name: $0, body: expr(depth: 4, ruleCount: count)) }
        return Grammar(rules: rules)
    }

    mutating func expr(depth: Int, ruleCount: Int) -> GrammarExpr {
        // Composite expressions twice as likely as leaves, until the depth runs out.
        let roll = Int.random(in: 0...(depth == 0 ? 2 : 8), using: &rng)
        let kind = roll < 3 ? roll : 3 + roll % 3
        switch kind {
        case 0:
            let length = Int.random(in: 0...4, using: &rng)
            let text = (0..<length).compactMap { _ in scalars.randomElement(using: &rng).flatMap(Unicode.Scalar.init) }
            return .literal(String(String.UnicodeScalarView(text)))
        case 1:
            let pool = scalars + classExtras
            let ranges = (0..<Int.random(in: 0...3, using: &rng)).map { _ -> ClosedRange<UInt32> in
                let a = pool.randomElement(using: &rng) ?? 0
                let b = Bool.random(using: &rng) ? a : (pool.randomElement(using: &rng) ?? 0)
                return min(a, b)...max(a, b)
            }
            return .charClass(CharClass(ranges: ranges, negated: Bool.random(using: &rng)))
        case 2:
            return .ruleRef(names[Int.random(in: 0..<ruleCount, using: &rng)])
        case 3:
            return .sequence((0..<Int.random(in: 0...4, using: &rng)).map { _ in expr(depth: depth - 1, ruleCount: ruleCount) })
        case 4:
            return .choice((0..<Int.random(in: 0...4, using: &rng)).map { _ in expr(depth: depth - 1, ruleCount: ruleCount) })
        default:
            let min = Int.random(in: 0...3, using: &rng)
            let max: Int? = Bool.random(using: &rng) ? nil : min + Int.random(in: 0...3, using: &rng)
            return .repeat(expr(depth: depth - 1, ruleCount: ruleCount), min: min, max: max)
        }
    }
}

let jsonGBNF = #"""
# JSON, written for these tests in llama.cpp's GBNF dialect.
root    ::= ws value ws
value   ::= object | array | string | number | "true" | "false" | "null"
object  ::= "{" ws ( member ( ws "," ws member )* ws )? "}"
member  ::= string ws ":" ws value
array   ::= "[" ws ( value ( ws "," ws value )* ws )? "]"
string  ::= "\"" (
              [^"\\\x00-\x1F] |
              "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
            )* "\""
number  ::= "-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
ws      ::= [ \t\n\r]*
"""#

@Suite struct GBNFRoundTripTests {
    @Test func randomGrammarsRoundTrip() throws {
        var random = RandomGrammars(rng: SeededGenerator(state: 0x5EED))
        for _ in 0..<500 {
            let grammar = random.grammar()
            let text = GBNF.print(grammar)
            let parsed = try GBNF.parse(text)
            #expect(parsed == grammar.normalized, "\(text)")
            #expect(GBNF.print(parsed) == text)
        }
    }

    @Test func printsCanonicalText() {
        let grammar = Grammar(rules: [
            rule("root", alt(seq(lit("a\"\\\n\u{0}é"), ref("item")), seq(), alt(lit("x"), lit("y")))),
            rule("item", seq(rep(alt(lit("b"), lit("c")), 0, nil), rep(seq(lit("d"), lit("e")), 1, nil),
                             rep(ref("item"), 0, 1), rep(lit("f"), 2, 2), rep(lit("g"), 2, nil), rep(lit("h"), 2, 3),
                             rep(rep(lit("i"), 0, nil), 0, 1), rep(seq(), 0, nil))),
            rule("chars", seq(.charClass(.any), cls(0x5E...0x5E, 0x2D...0x2D, 0x5D...0x5D, 0x5C...0x5C),
                              cls(0x5E...0x5E, negated: true), cls(0x30...0x39, 0x1F600...0x1F64F), cls(),
                              cls(0x0...0x1F, 0xD800...0xD800, 0x110000...0x110000), alt(), seq(lit("z")))),
        ])
        let expected = #"""
            root ::= "a\"\\\n\x00é" item | () | ("x" | "y")
            item ::= ("b" | "c")* ("d" "e")+ item? "f"{2} "g"{2,} "h"{2,3} "i"*? ()*
            chars ::= . [\x5E\x2D\]\\] [^^] [0-9😀-🙏] [] [\x00-\x1F\uD800\U00110000] [] "z"

            """#
        #expect(GBNF.print(grammar) == expected)
    }

    @Test func handWrittenGrammarPrintsStably() throws {
        let once = GBNF.print(try GBNF.parse(jsonGBNF))
        #expect(GBNF.print(try GBNF.parse(once)) == once)
        #expect(once.split(separator: "\n").count == 8)
    }

    @Test func jsonGrammarRecognizesJSON() throws {
        let recognizer = try GrammarRecognizer(try GBNF.parse(jsonGBNF))
        let valid = [
            #"{"a": [1, 2.5e-3, -0, true, null], "b\n\u00e9": {"c": "é😀"}}"#,
            "[]", "{}", "  \"x\"  ", "0", "-12.5E+10", "[[[]], {}]", "{ \"k\" : false }", "\"\\/\"",
        ]
        let invalid = [
            #"{"a" 1}"#, "[1,]", "01", #""\x""#, "{'a': 1}", "\"unterminated", "tru", "[1 2]", "\"a\nb\"",
            "", "1.", ".5", "-", "{\"a\":1,}", "\"\\u12\"", "nulll",
        ]
        for text in valid { #expect(recognizer.matches(text), "\(text)") }
        for text in invalid { #expect(!recognizer.matches(text), "\(text)") }
        #expect(recognizer.isPrefix(#"{"a": [1,"#))
        #expect(recognizer.isPrefix(#"{"a": "\u00"#))
        #expect(!recognizer.isPrefix(#"{"a": ]"#))
        #expect(!recognizer.isPrefix("[01"))
    }

    @Test func jsonRecognitionIsFast() throws {
        let recognizer = try GrammarRecognizer(try GBNF.parse(jsonGBNF))
        let call = #"{"name": "get_weather", "arguments": {"city": "Z\u00fcrich", "days": [1, 2.5, -3e2], "units": null}}"#
        let texts = [
            "[" + Array(repeating: call, count: 5).joined(separator: ", ") + "]",
            String(repeating: " ", count: 200) + "1" + String(repeating: " ", count: 200),  // ambiguous `ws ws`
            "[" + String(repeating: "[", count: 150) + String(repeating: "]", count: 150) + "]",
        ]
        let clock = ContinuousClock()
        for text in texts {
            #expect(text.unicodeScalars.count >= 300)
            var matched = false
            let elapsed = clock.measure { matched = recognizer.matches(text) }
            #expect(matched)
            #expect(elapsed < .milliseconds(100), "\(text.prefix(20))... took \(elapsed)")
        }
    }
}
