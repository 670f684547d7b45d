// A grammar flattened to plain context-free productions over single-scalar terminals: the form
// the reference recognizer runs on. Choices and repeats become helper nonterminals, literals
// become one terminal per scalar, and productions that can never match anything are dropped.

/// One symbol on a production's right-hand side.
enum FlatSymbol: Hashable, Sendable {
    /// Index into `FlatGrammar.classes`: matches one scalar.
    case terminal(Int)
    /// Index of a nonterminal.
    case nonterminal(Int)
}

/// Productions `lhs → rhs` over numbered nonterminals and character-class terminals.
struct FlatGrammar: Sendable {
    /// Terminal classes, indexed by `FlatSymbol.terminal`.
    private(set) var classes: [CharClass] = []
    /// Left-hand nonterminal of each production.
    private(set) var lhs: [Int] = []
    /// Right-hand side of each production.
    private(set) var rhs: [[FlatSymbol]] = []
    /// Production indices of each nonterminal.
    private(set) var productionsOf: [[Int]] = []
    /// Whether each nonterminal derives the empty string.
    private(set) var nullable: [Bool] = []
    /// The augmented start nonterminal, whose only production is `start → root`.
    private(set) var start = 0

    /// Flattens `grammar`, checking names and repeat bounds.
    init(_ grammar: Grammar) throws(GrammarError) {
        var ids: [String: Int] = [:]
        for rule in grammar.rules {
            guard ids[rule.name] == nil else { throw .duplicateRule(rule.name) }
            ids[rule.name] = newNonterminal()
        }
        guard let rootID = ids[grammar.root] else { throw .missingRoot(grammar.root) }
        for rule in grammar.rules {
            guard let id = ids[rule.name] else { continue }
            try addAlternatives(of: rule.body, to: id, ids: ids)
        }
        start = newNonterminal()
        addProduction(start, [.nonterminal(rootID)])
        pruneUnproductive()
        computeNullable()
    }

    // MARK: Building

    private mutating func newNonterminal() -> Int {
        productionsOf.append([])
        return productionsOf.count - 1
    }

    private mutating func addProduction(_ nonterminal: Int, _ symbols: [FlatSymbol]) {
        lhs.append(nonterminal)
        rhs.append(symbols)
        productionsOf[nonterminal].append(rhs.count - 1)
    }

    /// A top-level choice becomes several productions of the rule itself; anything else one.
    private mutating func addAlternatives(
        of expr: GrammarExpr, to nonterminal: Int, ids: [String: Int]
    ) throws(GrammarError) {
        if case .choice(let alternatives) = expr {
            for alternative in alternatives {
                addProduction(nonterminal, try symbols(for: alternative, ids: ids))
            }
        } else {
            addProduction(nonterminal, try symbols(for: expr, ids: ids))
        }
    }

    /// The symbol string that `expr` stands for inside a sequence.
    private mutating func symbols(for expr: GrammarExpr, ids: [String: Int]) throws(GrammarError) -> [FlatSymbol] {
        switch expr {
        case .sequence(let parts):
            var result: [FlatSymbol] = []
            for part in parts { result += try symbols(for: part, ids: ids) }
            return result
        case .literal(let text):
            return text.unicodeScalars.map { scalar in
                classes.append(CharClass(ranges: [scalar.value...scalar.value]))
                return .terminal(classes.count - 1)
            }
        case .charClass(let charClass):
            classes.append(charClass)
            return [.terminal(classes.count - 1)]
        case .ruleRef(let name):
            guard let id = ids[name] else { throw .undefinedRule(name) }
            return [.nonterminal(id)]
        case .choice:
            let helper = newNonterminal()
            try addAlternatives(of: expr, to: helper, ids: ids)
            return [.nonterminal(helper)]
        case .repeat(let item, let min, let max):
            return try repetition(of: item, min: min, max: max, ids: ids)
        }
    }

    /// `item{min,max}`: `min` copies, then either a left-recursive star or nested optionals.
    private mutating func repetition(
        of item: GrammarExpr, min: Int, max: Int?, ids: [String: Int]
    ) throws(GrammarError) -> [FlatSymbol] {
        guard min >= 0, max.map({ $0 >= min }) ?? true else { throw .invalidRepeat(min: min, max: max) }
        let unit = try symbols(for: item, ids: ids)
        var result: [FlatSymbol] = []
        for _ in 0..<min { result += unit }
        if let max {
            // optional_k ::= ε | unit optional_(k-1), with optional_0 = ε.
            var inner: [FlatSymbol] = []
            for _ in 0..<(max - min) {
                let optional = newNonterminal()
                addProduction(optional, [])
                addProduction(optional, unit + inner)
                inner = [.nonterminal(optional)]
            }
            result += inner
        } else {
            // star ::= ε | star unit
            let star = newNonterminal()
            addProduction(star, [])
            addProduction(star, [.nonterminal(star)] + unit)
            result.append(.nonterminal(star))
        }
        return result
    }

    // MARK: Analysis

    /// Drops productions that mention a nonterminal deriving no string or a class matching no
    /// scalar, so that every item a recognizer can reach can still be completed.
    private mutating func pruneUnproductive() {
        let liveTerminal = classes.map { !$0.matchesNoScalar }
        var productive = [Bool](repeating: false, count: productionsOf.count)
        func isLive(_ symbol: FlatSymbol) -> Bool {
            switch symbol {
            case .terminal(let index): return liveTerminal[index]
            case .nonterminal(let index): return productive[index]
            }
        }
        var changed = true
        while changed {
            changed = false
            for production in rhs.indices where !productive[lhs[production]] {
                if rhs[production].allSatisfy(isLive) {
                    productive[lhs[production]] = true
                    changed = true
                }
            }
        }
        for nonterminal in productionsOf.indices {
            productionsOf[nonterminal].removeAll { production in !rhs[production].allSatisfy(isLive) }
        }
    }

    private mutating func computeNullable() {
        nullable = [Bool](repeating: false, count: productionsOf.count)
        var changed = true
        while changed {
            changed = false
            for nonterminal in productionsOf.indices where !nullable[nonterminal] {
                let derivesEmpty = productionsOf[nonterminal].contains { production in
                    rhs[production].allSatisfy { symbol in
                        if case .nonterminal(let index) = symbol { return nullable[index] }
                        return false
                    }
                }
                if derivesEmpty {
                    nullable[nonterminal] = true
                    changed = true
                }
            }
        }
    }
}

extension CharClass {
    /// True when no Unicode scalar (0...0x10FFFF, surrogates excluded) is in the class.
    public var matchesNoScalar: Bool { smallestScalar == nil }
}
