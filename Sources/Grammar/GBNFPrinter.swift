// Canonical GBNF text for a grammar: one rule per line, in rule order, with the fewest
// parentheses that read back to the same IR.
//
// `GBNF.parse(GBNF.print(g)) == g.normalized` (up to `groundedRules`, which GBNF has no syntax for and
// the printer writes as comments) for every grammar whose rule names are valid GBNF
// names, whose repeats are valid and whose root is `root` (or is passed to `parse`); for any
// grammar `parse` produced, `normalized` changes nothing.

/// Reading and writing llama.cpp's GBNF grammar text.
public enum GBNF {
    /// Canonical GBNF text for `grammar`: `name ::= body` lines in rule order, each ending in
    /// a newline. Rule names are written as they are, so they should match `[a-zA-Z0-9-]+`.
    public static func print(_ grammar: Grammar) -> String {
        var output = ""
        for rule in grammar.rules {
            // GBNF cannot say it: a comment tells the reader (the parser drops it, and with it the mark).
            if grammar.groundedRules.contains(rule.name) { output += "# x-from-input: a span of the request's text\n" }
            output += rule.name + " ::= " + alternatives(rule.body.normalized) + "\n"
        }
        return output
    }

    // MARK: Precedence levels

    /// `a | b | c`, or a sequence when there is one alternative.
    private static func alternatives(_ expr: GrammarExpr) -> String {
        if case .choice(let options) = expr, options.count > 1 {
            return options.map(sequence).joined(separator: " | ")
        }
        return sequence(expr)
    }

    /// `a b c`, or one item.
    private static func sequence(_ expr: GrammarExpr) -> String {
        if case .sequence(let items) = expr, items.count > 1 {
            return items.map(item).joined(separator: " ")
        }
        return item(expr)
    }

    /// An item a quantifier can follow; choices and sequences are parenthesised.
    private static func item(_ expr: GrammarExpr) -> String {
        switch expr {
        case .literal(let text):
            return "\"" + text.unicodeScalars.map(literalChar).joined() + "\""
        case .charClass(let charClass):
            return characterClass(charClass)
        case .ruleRef(let name):
            return name
        case .repeat(let inner, let min, let max):
            return item(inner) + quantifier(min: min, max: max)
        case .sequence(let items) where items.isEmpty:
            return "()"
        case .sequence, .choice:
            return "(" + alternatives(expr) + ")"
        }
    }

    private static func quantifier(min: Int, max: Int?) -> String {
        switch (min, max) {
        case (0, nil): return "*"
        case (1, nil): return "+"
        case (0, 1?): return "?"
        case (_, nil): return "{\(min),}"
        case (_, let max?) where max == min: return "{\(min)}"
        case (_, let max?): return "{\(min),\(max)}"
        }
    }

    // MARK: Characters

    /// `.`, `[...]` or `[^...]`.
    private static func characterClass(_ charClass: CharClass) -> String {
        if charClass == .any { return "." }
        var text = charClass.negated ? "[^" : "["
        for (index, range) in charClass.ranges.enumerated() {
            let first = index == 0 && !charClass.negated
            text += classChar(range.lowerBound, first: first)
            if range.upperBound != range.lowerBound {
                text += "-" + classChar(range.upperBound, first: false)
            }
        }
        return text + "]"
    }

    private static func literalChar(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        default: return plainOrEscaped(scalar.value)
        }
    }

    /// A class member: `]` and `\` escaped, `-` always as `\x2D`, and `^` as `\x5E` when it
    /// would otherwise read as negation.
    private static func classChar(_ value: UInt32, first: Bool) -> String {
        switch value {
        case 0x5D: return "\\]"
        case 0x5C: return "\\\\"
        case 0x2D: return "\\x2D"
        case 0x5E where first: return "\\x5E"
        default: return plainOrEscaped(value)
        }
    }

    /// The character itself when printable, otherwise `\n`, `\r`, `\t`, `\xHH`, `\uHHHH` or
    /// `\UHHHHHHHH` (values that are not scalars, like surrogates, are always escaped).
    private static func plainOrEscaped(_ value: UInt32) -> String {
        switch value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        default: break
        }
        if let scalar = Unicode.Scalar(value), isPrintable(scalar) { return String(scalar) }
        let (prefix, width) = value <= 0xFF ? ("\\x", 2) : value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
        let digits = String(value, radix: 16, uppercase: true)
        return prefix + String(repeating: "0", count: width - digits.count) + digits
    }

    /// Scalars safe to write raw: not controls, formats, separators other than the space,
    /// unassigned or private-use code points, or combining marks that would attach to a quote.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .spaceSeparator, .lineSeparator, .paragraphSeparator,
             .nonspacingMark, .enclosingMark, .spacingMark:
            return false
        default:
            return true
        }
    }
}

// MARK: Normal form

extension GrammarExpr {
    /// The same language in the shape `GBNF.parse` produces: one-element sequences and choices
    /// are replaced by their element, and an empty choice by the empty class `[]`.
    public var normalized: GrammarExpr {
        switch self {
        case .sequence(let items):
            let parts = items.map(\.normalized)
            return parts.count == 1 ? parts[0] : .sequence(parts)
        case .choice(let options):
            let parts = options.map(\.normalized)
            if parts.isEmpty { return .charClass(CharClass(ranges: [])) }
            return parts.count == 1 ? parts[0] : .choice(parts)
        case .repeat(let inner, let min, let max):
            return .repeat(inner.normalized, min: min, max: max)
        case .literal, .charClass, .ruleRef:
            return self
        }
    }
}

extension Grammar {
    /// This grammar with every rule body `normalized`.
    public var normalized: Grammar {
        Grammar(rules: rules.map { GrammarRule(name: $0.name, body: $0.body.normalized) }, root: root, groundedRules: groundedRules)
    }
}
