// The grammar every part of constrained decoding shares: a context-free grammar over Unicode text,
// in the shape of llama.cpp's GBNF. The GBNF parser produces it, the JSON Schema compiler produces it,
// the printer writes it back as GBNF, and the token matcher compiles it to a byte-level automaton.

/// A context-free grammar: named rules, one of which is the start symbol.
public struct Grammar: Sendable, Equatable {
    /// Rules in definition order; names are unique.
    public var rules: [GrammarRule]
    /// Name of the start rule (GBNF's convention is `root`).
    public var root: String
    /// Rules whose matched text must also be a verbatim span of the request being answered (the
    /// JSON Schema compiler's `x-from-input` strings: the body between the quotes). The grammar
    /// alone cannot say this, because the request differs per call: the token matcher enforces it
    /// when it is given the request's text. Empty for every grammar that does not use the keyword,
    /// and GBNF has no syntax for it (a printed grammar drops the mark).
    public var groundedRules: Set<String>

    /// A grammar of `rules` starting at `root`, with `groundedRules` marked as request spans.
    public init(rules: [GrammarRule], root: String = "root", groundedRules: Set<String> = []) {
        self.rules = rules
        self.root = root
        self.groundedRules = groundedRules
    }

    /// The rule named `name`, if any.
    public func rule(named name: String) -> GrammarRule? { rules.first { $0.name == name } }
}

/// `name ::= body`.
public struct GrammarRule: Sendable, Equatable {
    /// Rule name: `[a-zA-Z0-9-]+` as in GBNF.
    public var name: String
    /// What the rule matches.
    public var body: GrammarExpr

    /// A rule `name ::= body`.
    public init(name: String, body: GrammarExpr) {
        self.name = name
        self.body = body
    }
}

/// A grammar expression. Text is matched as UTF-8 bytes; character classes match one Unicode scalar.
public indirect enum GrammarExpr: Sendable, Equatable {
    /// Each part in turn (an empty sequence matches the empty string).
    case sequence([GrammarExpr])
    /// Any one of the alternatives (GBNF `a | b`).
    case choice([GrammarExpr])
    /// This exact text (GBNF `"..."`, with escapes resolved).
    case literal(String)
    /// One Unicode scalar inside (or, negated, outside) the class (GBNF `[a-z]`, `[^"\\]`, `.`).
    case charClass(CharClass)
    /// Another rule, by name.
    case ruleRef(String)
    /// `min` to `max` repetitions (nil max: unbounded). GBNF `*` = (0, nil), `+` = (1, nil),
    /// `?` = (0, 1), `{m}` = (m, m), `{m,}` = (m, nil), `{m,n}` = (m, n).
    case `repeat`(GrammarExpr, min: Int, max: Int?)
}

/// A set of Unicode scalars given as inclusive ranges, optionally negated.
public struct CharClass: Sendable, Equatable {
    /// Inclusive ranges of scalar values.
    public var ranges: [ClosedRange<UInt32>]
    /// When true the class matches every scalar not in `ranges`.
    public var negated: Bool

    /// A class of `ranges`, negated or not.
    public init(ranges: [ClosedRange<UInt32>], negated: Bool = false) {
        self.ranges = ranges
        self.negated = negated
    }

    /// GBNF's `.`: any scalar.
    public static let any = CharClass(ranges: [], negated: true)

    /// True when `scalar` is in the class.
    public func contains(_ scalar: UInt32) -> Bool {
        let inRanges = ranges.contains { $0.contains(scalar) }
        return inRanges != negated
    }
}
