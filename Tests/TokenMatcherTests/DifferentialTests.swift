// The fast byte-level matcher against the Grammar target's reference Earley recognizer, on random
// grammars and strings: full matches and prefixes must agree exactly.

import Grammar
import Testing
import TestSupport
@testable import TokenMatcher


/// Random grammars over a tiny alphabet with multi-byte characters; rule i only refers to rules > i,
/// except through a bracketed (non-left) recursion, so every grammar compiles.
private struct RandomGrammar {
    static let alphabet: [String] = ["a", "b", "é", "😀", "[", "]"]
    var rng: SeededRandom

    mutating func expr(rule: Int, rules: Int, depth: Int) -> GrammarExpr {
        let pick = depth > 2 ? Int.random(in: 0..<3, using: &rng) : Int.random(in: 0..<7, using: &rng)
        switch pick {
        case 0: return .literal((0..<Int.random(in: 1...2, using: &rng)).map { _ in Self.alphabet.randomElement(using: &rng) ?? "a" }.joined())
        case 1:
            let classes: [[ClosedRange<UInt32>]] = [[0x61...0x62], [0xE9...0xE9, 0x61...0x61], [0x1F600...0x1F64F], [0x5B...0x5D]]
            return .charClass(CharClass(ranges: classes.randomElement(using: &rng) ?? [], negated: Int.random(in: 0..<5, using: &rng) == 0))
        case 2:
            if rule + 1 < rules { return .ruleRef("r\(Int.random(in: (rule + 1)..<rules, using: &rng))") }
            return .literal("b")
        case 3: return .sequence((0..<Int.random(in: 0...3, using: &rng)).map { _ in expr(rule: rule, rules: rules, depth: depth + 1) })
        case 4: return .choice((0..<Int.random(in: 1...3, using: &rng)).map { _ in expr(rule: rule, rules: rules, depth: depth + 1) })
        case 5:
            let min = Int.random(in: 0...2, using: &rng)
            let max: Int? = Int.random(in: 0..<3, using: &rng) == 0 ? nil : min + Int.random(in: 0...2, using: &rng)
            // Repeat only bodies that consume input, as nullable bodies under * are ambiguous loops.
            return .repeat(.sequence([.literal("a"), expr(rule: rule, rules: rules, depth: depth + 1)]), min: min, max: max)
        default:
            return .sequence([.literal("["), .choice([.ruleRef("r\(rule)"), .literal("")]), .literal("]")])
        }
    }

    mutating func grammar() -> Grammar {
        let count = Int.random(in: 1...4, using: &rng)
        var rules = [GrammarRule(name: "root", body: .ruleRef("r0"))]
        for i in 0..<count { rules.append(GrammarRule(name: "r\(i)", body: expr(rule: i, rules: count, depth: 0))) }
        return Grammar(rules: rules)
    }

    mutating func text() -> String {
        (0..<Int.random(in: 0...7, using: &rng)).map { _ in Self.alphabet.randomElement(using: &rng) ?? "a" }.joined()
    }
}

@Suite("Matcher agrees with the reference recognizer")
struct DifferentialTests {
    @Test("random grammars: full matches and prefixes", arguments: 0..<8)
    func agree(seed: Int) throws {
        var random = RandomGrammar(rng: SeededRandom(state: UInt64(seed) &* 7919 &+ 17))
        var compared = 0, positives = 0
        for _ in 0..<60 {
            let grammar = random.grammar()
            let reference = try GrammarRecognizer(grammar)
            let matcher = GrammarMatcher(grammar: try ByteGrammar(grammar))
            for _ in 0..<40 {
                let text = random.text()
                matcher.reset()
                let bytes = Array(text.utf8)
                let fullMatch = matcher.accept(bytes) && matcher.isAccepting
                #expect(fullMatch == reference.matches(text), "seed \(seed) grammar \(GBNF.print(grammar)) text \(text.debugDescription)")
                matcher.reset()
                #expect(matcher.canAccept(bytes) == reference.isPrefix(text), "prefix: seed \(seed) grammar \(GBNF.print(grammar)) text \(text.debugDescription)")
                compared += 1
                if fullMatch { positives += 1 }
            }
        }
        #expect(compared == 2400)
        #expect(positives > 20, "too few matching texts to be a meaningful comparison: \(positives)")
    }
}
