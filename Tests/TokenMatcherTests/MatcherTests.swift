// The byte-level matcher on hand-built grammars: UTF-8 classes, repeats, rollback, forced bytes.

import Grammar
import Testing
@testable import TokenMatcher

/// Shorthands for building grammars in tests.
private func lit(_ s: String) -> GrammarExpr { .literal(s) }
private func cls(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) -> GrammarExpr { .charClass(CharClass(ranges: ranges, negated: negated)) }
private func matcher(_ rules: [(String, GrammarExpr)]) throws -> GrammarMatcher {
    GrammarMatcher(grammar: try ByteGrammar(Grammar(rules: rules.map { GrammarRule(name: $0.0, body: $0.1) })))
}
private func matches(_ m: GrammarMatcher, _ text: String) -> Bool {
    m.reset()
    return m.accept(Array(text.utf8)) && m.isAccepting
}

@Suite("UTF-8 range compilation")
struct UTF8RangeTests {
    /// Every scalar of the Unicode range is matched by the sequences exactly when it is in the class.
    static let classes: [[ClosedRange<UInt32>]] = [
        [0x41...0x5A],
        [0x00...0x7F, 0x80...0x7FF],
        [0x7F...0x81, 0x7FE...0x801, 0xFFFE...0x10001],
        [0x20...0x21, 0x23...0x5B, 0x5D...0x10FFFF],
        [0x3B1...0x3C9, 0x4E00...0x9FFF, 0x1F600...0x1F64F],
        [0xD000...0xE100],
    ]

    @Test("sequences match exactly the class, checked over every scalar", arguments: 0..<6)
    func exact(index: Int) {
        let ranges = Self.classes[index]
        let sequences = UTF8Ranges.sequences(for: ranges)
        var wrong = 0
        for scalar in UInt32(0)...0x10FFFF where !(0xD800...0xDFFF).contains(scalar) {
            let bytes = UTF8Ranges.encode(scalar)
            let inClass = ranges.contains { $0.contains(scalar) }
            let matched = sequences.contains { s in s.bytes.count == bytes.count && zip(s.bytes, bytes).allSatisfy { $0.contains($1) } }
            if inClass != matched { wrong += 1 }
        }
        #expect(wrong == 0)
    }

    @Test("encode agrees with Swift's UTF-8")
    func encode() {
        for scalar in [0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF] as [UInt32] {
            let expected = Array(String(Unicode.Scalar(scalar)!).utf8)
            #expect(UTF8Ranges.encode(scalar) == expected)
        }
    }

    @Test("complement excludes surrogates and covers the rest")
    func complement() {
        let c = UTF8Ranges.complement([0x22...0x22, 0x5C...0x5C])
        #expect(c == [0x0...0x21, 0x23...0x5B, 0x5D...0xD7FF, 0xE000...0x10FFFF])
    }
}

@Suite("Grammar matcher")
struct GrammarMatcherTests {
    @Test("literals, choices, classes")
    func basics() throws {
        let m = try matcher([("root", .sequence([lit("{\"tool\":\""), .choice([lit("track_order"), lit("track"), lit("escalate")]), lit("\"}")]))])
        #expect(matches(m, "{\"tool\":\"track_order\"}"))
        #expect(matches(m, "{\"tool\":\"track\"}"))
        #expect(!matches(m, "{\"tool\":\"tracks\"}"))
        #expect(!matches(m, "{\"tool\":\"track_order\""))   // prefix only: accepted bytes but not complete
        m.reset()
        #expect(m.accept(Array("{\"tool\":\"track_order\"".utf8)) && !m.isAccepting)
    }

    @Test("non-ASCII classes match whole scalars, a byte at a time")
    func unicode() throws {
        let m = try matcher([("root", .repeat(cls([0x3B1...0x3C9, 0x1F600...0x1F64F]), min: 1, max: 3))])
        #expect(matches(m, "αβ"))
        #expect(matches(m, "😀ω😃"))
        #expect(!matches(m, "αβγδ"))
        #expect(!matches(m, "a"))
        m.reset()
        let bytes = Array("😀".utf8)
        #expect(m.accept(bytes.prefix(2)))            // a token may end inside a UTF-8 sequence
        #expect(!m.canAccept([0x41]))                  // ... and then only a continuation byte fits
        #expect(m.accept(bytes.suffix(2)) && m.isAccepting)
    }

    @Test("negated class and JSON string body")
    func negated() throws {
        let char = GrammarExpr.choice([cls([0x22...0x22, 0x5C...0x5C, 0...0x1F], negated: true), .sequence([lit("\\"), cls([0x22...0x22, 0x5C...0x5C, 0x6E...0x6E])])])
        let m = try matcher([("root", .sequence([lit("\""), .repeat(char, min: 0, max: 5), lit("\"")]))])
        #expect(matches(m, "\"hé\\\"\""))
        #expect(matches(m, "\"\""))
        #expect(!matches(m, "\"abcdef\""))
        #expect(!matches(m, "\"a\"b\""))
        #expect(!matches(m, "\"\u{1}\""))
    }

    @Test("repeat counts", arguments: [(0, 0), (2, 2), (1, 3), (3, nil as Int?)])
    func repeats(min: Int, max: Int?) throws {
        let m = try matcher([("root", .repeat(lit("ab"), min: min, max: max))])
        for n in 0...6 {
            let inRange = n >= min && (max.map { n <= $0 } ?? true)
            #expect(matches(m, String(repeating: "ab", count: n)) == inRange, "n=\(n)")
        }
    }

    @Test("recursion through rules")
    func recursion() throws {
        // value ::= "[" ( value ("," value)* )? "]" | "x"
        let value = GrammarExpr.choice([
            .sequence([lit("["), .repeat(.sequence([.ruleRef("value"), .repeat(.sequence([lit(","), .ruleRef("value")]), min: 0, max: nil)]), min: 0, max: 1), lit("]")]),
            lit("x"),
        ])
        let m = try matcher([("root", .ruleRef("value")), ("value", value)])
        for good in ["x", "[]", "[x]", "[x,[x,[]],x]"] { #expect(matches(m, good), "\(good)") }
        for bad in ["", "[", "[x,]", "[[x]", "xx"] { #expect(!matches(m, bad), "\(bad)") }
    }

    /// Regression: costs of a loop over a rule defined later were multiplied while still "unreachable"
    /// (Int.max / 4) during the fixed point, which overflowed for counts of 4 and more.
    @Test("minimum lengths through loops over later rules saturate instead of overflowing")
    func loopCosts() throws {
        let grammar = try ByteGrammar(Grammar(rules: [
            GrammarRule(name: "root", body: .sequence([.repeat(.ruleRef("pair"), min: 5, max: 9), lit("!")])),
            GrammarRule(name: "pair", body: lit("ab")),
        ]))
        #expect(grammar.minimumLength == 11)
        let m = GrammarMatcher(grammar: grammar)
        #expect(m.completionCost(m.state) == 11)
        #expect(m.accept(Array("abab".utf8)))
        #expect(m.completionCost(m.state) == 7)
    }

    @Test("compile errors are named")
    func compileErrors() {
        #expect(throws: MatcherCompileError.undefinedRule("nope")) { try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: .ruleRef("nope"))])) }
        #expect(throws: MatcherCompileError.missingRoot("root")) { try ByteGrammar(Grammar(rules: [GrammarRule(name: "a", body: lit("x"))])) }
        #expect(throws: MatcherCompileError.leftRecursion("root")) {
            try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: .choice([.sequence([.ruleRef("root"), lit("x")]), lit("y")]))]))
        }
        #expect(throws: MatcherCompileError.invalidRepeat(min: 3, max: 1)) { try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: .repeat(lit("x"), min: 3, max: 1))])) }
    }

    @Test("rollback restores earlier states")
    func rollback() throws {
        let m = try matcher([("root", .sequence([lit("ab"), .choice([lit("c"), lit("d")]), lit("e")]))])
        #expect(m.accept(Array("a".utf8)))
        #expect(m.accept(Array("bc".utf8)))
        #expect(!m.accept(Array("x".utf8)))          // refused: state unchanged
        m.rollback(1)
        #expect(m.accept(Array("bd".utf8)))
        #expect(m.accept(Array("e".utf8)) && m.isAccepting)
    }

    @Test("forced bytes stop at the first real choice")
    func forced() throws {
        let m = try matcher([("root", .sequence([lit("{\"tool\":\""), .choice([lit("track_order"), lit("track_refund"), lit("escalate")]), lit("\"}")]))])
        #expect(m.forcedBytes() == Array("{\"tool\":\"".utf8))
        #expect(m.accept(Array("{\"tool\":\"e".utf8)))
        #expect(m.forcedBytes() == Array("scalate\"}".utf8))
        m.reset()
        #expect(m.accept(Array("{\"tool\":\"tr".utf8)))
        #expect(m.forcedBytes() == Array("ack_".utf8))
    }
}

@Suite("Token masks")
struct TokenMaskTests {
    /// A toy vocabulary: every single byte, some words, pieces that split UTF-8 sequences.
    static let vocabulary: TokenVocabulary = {
        var tokens: [[UInt8]] = (0...255).map { [UInt8($0)] }
        for word in ["{\"", "tool", "\":\"", "track", "_order", "track_order", "\"}", "esc", "alate", "ab", "abc", "\"\"", "é", "é\""] {
            tokens.append(Array(word.utf8))
        }
        tokens.append([0xC3])           // first half of "é"
        tokens.append([0xA9, 0x22])     // second half of "é" then a quote
        tokens.append([])               // a control token
        return TokenVocabulary(tokens: tokens, endOfGeneration: [tokens.count - 1])
    }()

    /// Brute force: each token tried on its own.
    func bruteForce(_ m: GrammarMatcher) -> [Int] {
        (0..<Self.vocabulary.count).filter { m.allows(token: $0, in: Self.vocabulary) }
    }

    @Test("trie mask equals brute force at every step of several texts")
    func maskMatchesBruteForce() throws {
        let char = GrammarExpr.choice([cls([0x22...0x22, 0x5C...0x5C, 0...0x1F], negated: true), .sequence([lit("\\"), cls([0x22...0x22, 0x5C...0x5C])])])
        let root = GrammarExpr.sequence([lit("{\"tool\":\""), .choice([lit("track_order"), lit("escalate")]), lit("\",\"note\":\""), .repeat(char, min: 0, max: 8), lit("\"}")])
        let fresh = try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: root)]))
        let warmed = try ByteGrammar(Grammar(rules: [GrammarRule(name: "root", body: root)]))
        #expect(warmed.prepareMasks(for: Self.vocabulary) > 0)
        var mask = TokenMask(count: 0)
        // A fresh grammar twice over (the second matcher answers from the shared mask cache), then a
        // grammar whose cache was filled ahead of time by `prepareMasks`.
        for grammar in [fresh, fresh, warmed] {
            let m = GrammarMatcher(grammar: grammar)
            for text in ["{\"tool\":\"track_order\",\"note\":\"é\\\"x\"}", "{\"tool\":\"escalate\",\"note\":\"\"}", "{\"tool\":\"escalate\",\"note\":\"abcdefgh\"}"] {
                m.reset()
                for byte in Array(text.utf8) {
                    m.allowedTokens(Self.vocabulary, into: &mask)
                    #expect(mask.allowedIDs == bruteForce(m), "before \(UnicodeScalar(byte)) in \(text)")
                    #expect(m.accept([byte]))
                }
                m.allowedTokens(Self.vocabulary, into: &mask)
                #expect(mask.allowedIDs == bruteForce(m))
                #expect(mask[Self.vocabulary.count - 1])          // complete: end of generation allowed
                #expect(mask.allowedCount == 1)
            }
        }
    }
}
