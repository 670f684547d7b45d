import Testing
@testable import Grammar

// The recognizer against an independent, brute-force reference: the set of all strings up to a
// few characters that each rule derives, computed as a least fixed point over finite sets.

/// All strings of at most `maxLength` scalars over `alphabet` that each rule derives.
struct BoundedLanguage {
    let alphabet: [Unicode.Scalar]
    let maxLength: Int
    private(set) var rules: [String: Set<String>] = [:]

    init(_ grammar: Grammar, alphabet: [Unicode.Scalar], maxLength: Int) {
        self.alphabet = alphabet
        self.maxLength = maxLength
        var changed = true
        while changed {
            changed = false
            for rule in grammar.rules {
                let derived = language(of: rule.body).union(rules[rule.name] ?? [])
                if derived != rules[rule.name] ?? [] {
                    rules[rule.name] = derived
                    changed = true
                }
            }
        }
    }

    func language(of expr: GrammarExpr) -> Set<String> {
        switch expr {
        case .literal(let text):
            return text.unicodeScalars.count <= maxLength ? [text] : []
        case .charClass(let charClass):
            return Set(alphabet.filter { charClass.contains($0.value) }.map { String($0) })
        case .ruleRef(let name):
            return rules[name] ?? []
        case .sequence(let parts):
            return parts.reduce([""]) { concatenate($0, language(of: $1)) }
        case .choice(let options):
            return options.reduce([]) { $0.union(language(of: $1)) }
        case .repeat(let item, let min, let max):
            // Beyond min + maxLength copies nothing new fits: each extra copy is empty or too long.
            let unit = language(of: item)
            var power: Set<String> = [""]
            var result: Set<String> = []
            for count in 0...(max ?? (min + maxLength + 1)) {
                if count >= min { result.formUnion(power) }
                power = concatenate(power, unit)
            }
            return result
        }
    }

    private func concatenate(_ left: Set<String>, _ right: Set<String>) -> Set<String> {
        var result: Set<String> = []
        for a in left {
            for b in right where a.unicodeScalars.count + b.unicodeScalars.count <= maxLength {
                result.insert(a + b)
            }
        }
        return result
    }
}

/// Every string of at most `maxLength` scalars over `alphabet`.
func allStrings(over alphabet: [Unicode.Scalar], maxLength: Int) -> [String] {
    var level = [""]
    var all = [""]
    for _ in 0..<maxLength {
        level = level.flatMap { prefix in alphabet.map { prefix + String($0) } }
        all += level
    }
    return all
}

@Suite struct RecognizerCrossCheckTests {
    @Test func randomGrammarsAgreeWithBruteForce() throws {
        let alphabet: [Unicode.Scalar] = ["a", "b", "c"]
        let maxLength = 4
        let texts = allStrings(over: alphabet, maxLength: maxLength)
        var random = RandomGrammars(rng: SeededGenerator(state: 0xC0FFEE))
        random.scalars = alphabet.map(\.value)
        random.classExtras = [0x64]
        for _ in 0..<300 {
            let grammar = random.grammar()
            let recognizer = try GrammarRecognizer(grammar)
            let language = BoundedLanguage(grammar, alphabet: alphabet, maxLength: maxLength).rules["root"] ?? []
            for text in texts {
                let expected = language.contains(text)
                #expect(recognizer.matches(text) == expected, "\(text) in \(GBNF.print(grammar))")
                if language.contains(where: { $0.hasPrefix(text) }) {
                    #expect(recognizer.isPrefix(text), "\(text) prefix in \(GBNF.print(grammar))")
                }
                if !recognizer.isPrefix(text) {
                    #expect(!expected)
                }
            }
        }
    }

    @Test func boundedLanguageSanity() throws {
        let grammar = try GBNF.parse("root ::= root \"a\" | \"b\"")
        let language = BoundedLanguage(grammar, alphabet: ["a", "b"], maxLength: 3).rules["root"]
        #expect(language == ["b", "ba", "baa"])
    }
}
