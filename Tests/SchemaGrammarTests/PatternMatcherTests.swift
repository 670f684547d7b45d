// The validator's pattern matcher: ECMA-262 search semantics, linear time on patterns that make a
// backtracking engine explode, the same syntax errors as the grammar compiler, and the same
// answers as the compiled grammar on every short string over a small alphabet.

import Grammar
import JSON
import SchemaGrammar
import Testing

@Suite struct PatternMatcherTests {
    static let semantics: [(pattern: String, text: String, matches: Bool)] = [
        ("ab+c", "xxabbbcyy", true), ("ab+c", "ac", false),          // unanchored search
        ("^ab", "abzz", true), ("^ab", "zab", false),
        ("yz$", "xxyz", true), ("yz$", "yzx", false),
        ("^abc$", "abc\n", false),                                   // `$` is the end, not before a final newline
        ("^\\d+$", "123", true), ("^\\d$", "\u{663}", false),        // \d is ASCII digits only
        ("^\\w$", "_", true), ("^\\w$", "é", false),
        ("^\\s$", "\u{3000}", true), ("^\\S$", " ", false),
        ("^.$", "\n", false), ("^.$", "😀", true), ("^.$", "\u{2028}", false),
        ("^[^a-c\\d]$", "d", true), ("^[^a-c\\d]$", "5", false),
        ("^a{3}b{2,}c{1,2}?$", "aaabbbbcc", true), ("^a{3}b{2,}c{1,2}?$", "aabbc", false),
        ("^(?:cat|dog)s?$", "dogs", true), ("^(?:cat|dog)s?$", "catss", false),
        ("^(a*)*b$", "aaab", true), ("^(a*)*b$", "aaa", false),     // nullable loops terminate
        ("", "anything", true), ("^$", "", true), ("^$", "x", false),
        ("[]", "a", false), ("^[^]$", "\n", true),                   // ECMA: [] matches nothing, [^] anything
        ("^a|b$", "ax", true), ("^a|b$", "xb", true), ("^a|b$", "xa", false),
        ("a{,2}", "a{,2}", true),                                    // Annex B: a brace that is no quantifier is literal
        ("(?<year>\\d{4})-\\d{2}", "on 2024-05", true),
    ]

    @Test func ecmaSemantics() throws {
        for (pattern, text, expected) in Self.semantics {
            let matched = try PatternMatcher(pattern).matches(text)
            #expect(matched == expected, "\(pattern) on \(text.debugDescription)")
        }
    }

    /// Each would take a backtracking engine exponential time (2^37 steps and more); the automaton
    /// answers at once (the time is in the report, not asserted here).
    @Test func pathologicalPatternsAnswerInLinearTime() throws {
        let cases: [(String, String, Bool)] = [
            ("^(a+)+$", String(repeating: "a", count: 37) + "b", false),
            ("^(a+)+$", String(repeating: "a", count: 5_000), true),
            ("(x+x+)+y", String(repeating: "x", count: 5_000), false),
            ("^(a|aa)*$", String(repeating: "a", count: 10_000) + "b", false),
            ("^(a|a?)+$", String(repeating: "a", count: 10_000) + "!", false),
            ("^([a-z]*)*[0-9]$", String(repeating: "q", count: 10_000), false),
        ]
        for (pattern, text, expected) in cases {
            let matcher = try PatternMatcher(pattern)
            var matched = !expected
            let elapsed = ContinuousClock().measure { matched = matcher.matches(text) }
            #expect(matched == expected, "\(pattern) on \(text.count) characters")
            print("pattern \(pattern) on \(text.count) characters: \(matched) in \(elapsed)")
        }
    }

    @Test func unsupportedSyntaxIsAnError() {
        let cases: [(String, String)] = [
            ("^(?=.*[0-9]).{8,}$", "lookahead assertions are not supported"),
            ("(?<!a)b", "lookbehind assertions are not supported"),
            ("^(a*)\\1$", "backreferences are not supported"),
            ("\\bword\\b", "word boundary \\b is not supported"),
            ("\\p{L}", "Unicode property escapes \\p are not supported"),
            ("(a", "missing ')'"),
            ("a)", "unbalanced ')' at offset 1"),
            ("[z-a]", "range out of order in character class"),
            ("a{2,1}", "quantifier {2,1} is out of order"),
        ]
        for (pattern, reason) in cases {
            #expect(throws: PatternError(reason: reason), "\(pattern)") { try PatternMatcher(pattern) }
        }
    }

    @Test func groupNestingIsBoundedByTheSharedLimit() throws {
        let depth = NestingLimit.depth
        let deepest = String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
        #expect(try PatternMatcher(deepest).matches("a"))
        let tooDeep = String(repeating: "(", count: 20_000) + "a" + String(repeating: ")", count: 20_000)
        #expect(throws: PatternError(reason: "groups nest deeper than \(depth) levels at offset \(depth + 1)")) { try PatternMatcher(tooDeep) }
        // The grammar compiler gives the same reason.
        let schema = JSONValue.object([("type", .string("string")), ("pattern", .string(tooDeep))])
        #expect(throws: SchemaCompileError.invalidPattern(pointer: "/pattern", reason: "groups nest deeper than \(depth) levels at offset \(depth + 1)")) {
            try SchemaCompiler.compile(schema)
        }
    }

    @Test func programsPastTheSizeBoundAreRefused() throws {
        #expect(throws: PatternError.self) { try PatternMatcher("^(a{1000}){1000}$") }
        #expect(try PatternMatcher("^[a-z0-9]{1,64}$").matches("abc"))
        do {
            _ = try PatternMatcher("^(a{1000}){1000}$")
        } catch {
            #expect(error.reason.hasPrefix("pattern is too large"), "\(error.reason)")
        }
    }

    static let agreementPatterns = [
        "^ORD-[0-9]{1,3}$", "ab+", "^a|b$", "^(ab|1)*$", "^[^a-]?\\d", "a.b", "^(a+)+$", "(a|aa)*-", "^\\w{2}$",
        "^[a-b1]{0,2}-?$", "é$", "^(?:a|b1)+?$", "^\\S\\s", "^$", "1",
    ]

    /// Every string of up to four characters over an alphabet that exercises the patterns.
    static let agreementTexts: [String] = {
        let alphabet = ["a", "b", "1", "-", "\n", "é"]
        var texts = [""]
        var layer = [""]
        for _ in 0..<4 {
            layer = layer.flatMap { prefix in alphabet.map { prefix + $0 } }
            texts += layer
        }
        return texts
    }()

    @Test("the matcher and the compiled grammar agree", arguments: agreementPatterns)
    func agreesWithTheGrammar(pattern: String) throws {
        let matcher = try PatternMatcher(pattern)
        let schema = JSONValue.object([("type", .string("string")), ("pattern", .string(pattern))])
        let recognizer = try GrammarRecognizer(SchemaCompiler.compile(schema))
        var disagreements: [String] = []
        for text in Self.agreementTexts where matcher.matches(text) != recognizer.matches(JSONWriter.quoted(text)) {
            disagreements.append(text.debugDescription)
        }
        #expect(disagreements.isEmpty, "\(pattern): \(disagreements.prefix(10))")
    }
}
