import Testing
@testable import Grammar

// Hand-written grammars with accept/reject tables for the reference recognizer.

/// Shorthands for building IR by hand.
func lit(_ text: String) -> GrammarExpr { .literal(text) }
func ref(_ name: String) -> GrammarExpr { .ruleRef(name) }
func seq(_ parts: GrammarExpr...) -> GrammarExpr { .sequence(parts) }
func alt(_ parts: GrammarExpr...) -> GrammarExpr { .choice(parts) }
func cls(_ ranges: ClosedRange<UInt32>..., negated: Bool = false) -> GrammarExpr {
    .charClass(CharClass(ranges: ranges, negated: negated))
}
func rep(_ item: GrammarExpr, _ min: Int, _ max: Int?) -> GrammarExpr { .repeat(item, min: min, max: max) }
func root(_ body: GrammarExpr, _ others: GrammarRule...) -> Grammar {
    Grammar(rules: [GrammarRule(name: "root", body: body)] + others)
}
func rule(_ name: String, _ body: GrammarExpr) -> GrammarRule { GrammarRule(name: name, body: body) }

/// Checks every accepted text matches, every rejected one does not, and that `isPrefix`
/// agrees with "some accepted text, or listed prefix, extends it".
func check(
    _ grammar: Grammar, accepts: [String], rejects: [String],
    prefixes: [String] = [], nonPrefixes: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let recognizer = try GrammarRecognizer(grammar)
    for text in accepts {
        #expect(recognizer.matches(text), "should match \(text.debugDescription)", sourceLocation: sourceLocation)
        #expect(recognizer.isPrefix(text), "match is a prefix: \(text.debugDescription)", sourceLocation: sourceLocation)
    }
    for text in rejects {
        #expect(!recognizer.matches(text), "should reject \(text.debugDescription)", sourceLocation: sourceLocation)
    }
    for text in prefixes {
        #expect(recognizer.isPrefix(text), "should be a prefix: \(text.debugDescription)", sourceLocation: sourceLocation)
    }
    for text in nonPrefixes {
        #expect(!recognizer.isPrefix(text), "should not be a prefix: \(text.debugDescription)", sourceLocation: sourceLocation)
    }
}

@Suite struct GrammarRecognizerTests {
    @Test func literalAndSequence() throws {
        try check(root(seq(lit("ab"), lit("c"))), accepts: ["abc"], rejects: ["", "ab", "abcc", "abd", "xabc"],
                  prefixes: ["", "a", "ab"], nonPrefixes: ["b", "abcd", "ac"])
    }

    @Test func emptyLiteralAndEmptySequence() throws {
        try check(root(seq(lit(""), seq())), accepts: [""], rejects: ["a"], nonPrefixes: ["a"])
    }

    @Test func nestedChoices() throws {
        let grammar = root(seq(alt(lit("a"), alt(lit("b"), seq(lit("c"), alt(lit("d"), lit("e"))))), lit("!")))
        try check(grammar, accepts: ["a!", "b!", "cd!", "ce!"], rejects: ["c!", "ab!", "", "a", "cde!"],
                  prefixes: ["c", "cd"], nonPrefixes: ["d", "cf"])
    }

    @Test func emptyAlternatives() throws {
        let grammar = root(seq(lit("<"), alt(lit(""), lit("x"), seq()), ref("opt"), lit(">")),
                           rule("opt", alt(seq(), lit("y"))))
        try check(grammar, accepts: ["<>", "<x>", "<y>", "<xy>"], rejects: ["<yx>", "<xx>", "<"])
    }

    @Test func emptyChoiceMatchesNothing() throws {
        try check(root(alt()), accepts: [], rejects: ["", "a"], nonPrefixes: ["", "a"])
        try check(root(alt(lit("a"), alt())), accepts: ["a"], rejects: [""])
    }

    @Test func leftRecursion() throws {
        // expr ::= expr "+" num | num ; num ::= [0-9]+
        let grammar = root(ref("expr"),
                           rule("expr", alt(seq(ref("expr"), lit("+"), ref("num")), ref("num"))),
                           rule("num", rep(cls(0x30...0x39), 1, nil)))
        try check(grammar, accepts: ["1", "12+3", "1+2+34+5"], rejects: ["", "+1", "1+", "1++2"],
                  prefixes: ["1+", "12+3+"], nonPrefixes: ["+", "1++"])
    }

    @Test func nullableLeftRecursion() throws {
        // list ::= list "a" | ""  (left recursive with an empty base)
        let grammar = root(seq(ref("list"), lit(".")), rule("list", alt(seq(ref("list"), lit("a")), lit(""))))
        try check(grammar, accepts: [".", "a.", "aaaa."], rejects: ["", "a", "b.", ".a"])
    }

    @Test func nullableChain() throws {
        // Nullable nonterminals completed at the same position they start at.
        let grammar = root(seq(ref("a"), ref("b"), ref("a"), lit("z")),
                           rule("a", alt(ref("b"), lit("x"))),
                           rule("b", alt(seq(), seq(ref("a"), lit("y")))))
        try check(grammar, accepts: ["z", "xz", "yz", "xyz", "xyxz", "xyyz"], rejects: ["", "zz", "xxxz"])
    }

    @Test func boundedRepeat() throws {
        try check(root(rep(lit("ab"), 2, 4)), accepts: ["abab", "ababab", "abababab"],
                  rejects: ["", "ab", "aba", "ababababab", "ababa"],
                  prefixes: ["", "a", "aba"], nonPrefixes: ["ababababa", "b"])
    }

    @Test func unboundedRepeat() throws {
        try check(root(seq(rep(lit("x"), 3, nil), lit("."))),
                  accepts: ["xxx.", "xxxx.", String(repeating: "x", count: 50) + "."],
                  rejects: [".", "x.", "xx.", "xxx"], prefixes: ["xx", "xxxxxxx"], nonPrefixes: ["xx."])
    }

    @Test func zeroRepeat() throws {
        try check(root(seq(lit("a"), rep(lit("b"), 0, 0), lit("c"))), accepts: ["ac"], rejects: ["abc"],
                  nonPrefixes: ["ab"])
    }

    @Test func starPlusOptional() throws {
        let grammar = root(seq(rep(lit("a"), 0, nil), rep(lit("b"), 1, nil), rep(lit("c"), 0, 1)))
        try check(grammar, accepts: ["b", "ab", "aabbb", "bc", "aabc"], rejects: ["", "a", "c", "bcc", "ba"])
    }

    @Test func repeatOfNullable() throws {
        // (""|"a")* must not loop and must accept any run of a's.
        let grammar = root(seq(rep(alt(lit(""), lit("a")), 0, nil), lit(";")))
        try check(grammar, accepts: [";", "a;", "aaa;"], rejects: ["", "b;"])
        try check(root(rep(rep(lit("a"), 0, nil), 2, 3)), accepts: ["", "a", "aaaa"], rejects: ["b"])
    }

    @Test func charClasses() throws {
        let grammar = root(seq(cls(0x61...0x7A, 0x30...0x39), cls(0x22...0x22, 0x5C...0x5C, negated: true),
                               .charClass(.any)))
        try check(grammar, accepts: ["a!\u{1F600}", "9bc", "zz\n", "a\u{E9}\""], rejects: ["A!x", "a\"x", "a\\x", "ab"])
    }

    @Test func nonASCIIScalars() throws {
        let grammar = root(seq(lit("é→"), cls(0x3B1...0x3C9), lit("😀"), rep(cls(0x4E00...0x9FFF), 1, 2)))
        try check(grammar, accepts: ["é→λ😀中", "é→ω😀中文"], rejects: ["e→λ😀中", "é→λ😀", "é→λ😀中文字", "é→Λ😀中"],
                  prefixes: ["é", "é→λ\u{1F600}"], nonPrefixes: ["é→λ😁"])
        // Combining characters are separate scalars, not one Character.
        try check(root(seq(lit("e"), cls(0x300...0x36F))), accepts: ["e\u{301}"], rejects: ["\u{E9}"])
    }

    @Test func unproductiveRulesAreNotPrefixes() throws {
        // `loop` can never finish, so nothing starting with "x" can ever match.
        let grammar = root(alt(seq(lit("x"), ref("loop")), lit("y")), rule("loop", seq(lit("x"), ref("loop"))))
        try check(grammar, accepts: ["y"], rejects: ["x", "xx"], prefixes: [""], nonPrefixes: ["x", "xx"])
        // A class matching no scalar at all is dead too.
        try check(root(alt(seq(lit("a"), cls()), lit("b"))), accepts: ["b"], rejects: ["a"], nonPrefixes: ["a"])
        try check(root(seq(lit("a"), cls(0...0x10FFFF, negated: true))), accepts: [], rejects: ["a"], nonPrefixes: ["", "a"])
    }

    @Test func customRootName() throws {
        let grammar = Grammar(rules: [rule("root", lit("no")), rule("start", lit("yes"))], root: "start")
        try check(grammar, accepts: ["yes"], rejects: ["no"])
    }

    @Test func malformedGrammarsThrow() {
        #expect(throws: GrammarError.undefinedRule("missing")) {
            try GrammarRecognizer(root(seq(lit("a"), ref("missing"))))
        }
        #expect(throws: GrammarError.duplicateRule("root")) {
            try GrammarRecognizer(root(lit("a"), rule("root", lit("b"))))
        }
        #expect(throws: GrammarError.missingRoot("root")) {
            try GrammarRecognizer(Grammar(rules: [rule("other", lit("a"))]))
        }
        #expect(throws: GrammarError.invalidRepeat(min: 3, max: 2)) {
            try GrammarRecognizer(root(rep(lit("a"), 3, 2)))
        }
        #expect(throws: GrammarError.invalidRepeat(min: -1, max: nil)) {
            try GrammarRecognizer(root(rep(lit("a"), -1, nil)))
        }
    }

    @Test func errorDescriptions() {
        #expect(GrammarError.undefinedRule("x").description == "undefined rule 'x'")
        #expect(GrammarError.syntax(line: 3, column: 14, message: "expected ']' to close character class").description
                == "3:14: expected ']' to close character class")
        #expect(GrammarError.invalidRepeat(min: 2, max: nil).description == "invalid repetition {2,}")
    }

    @Test func longTextsAreFast() throws {
        // A JSON-ish nested list grammar over a few hundred characters.
        let grammar = root(ref("value"),
                           rule("value", alt(ref("list"), ref("word"))),
                           rule("list", seq(lit("["), rep(seq(ref("value"), rep(seq(lit(","), ref("value")), 0, nil)), 0, 1), lit("]"))),
                           rule("word", rep(cls(0x61...0x7A), 1, nil)))
        let recognizer = try GrammarRecognizer(grammar)
        let text = "[" + Array(repeating: "[abc,[de,f],ghij]", count: 20).joined(separator: ",") + "]"
        #expect(text.count > 300)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(recognizer.matches(text))
            #expect(!recognizer.matches(text + "]"))
            #expect(recognizer.isPrefix(String(text.dropLast())))
        }
        #expect(elapsed < .milliseconds(300), "took \(elapsed)")  // three runs, debug build
    }
}
