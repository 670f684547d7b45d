// A recursive-descent parser for the ECMA-262 subset JSON Schema patterns use: literals,
// escapes, classes, `.`, groups, alternation, greedy and lazy quantifiers, `^` and `$`.
// Backreferences, lookaround, word boundaries and Unicode property escapes are rejected by name.
// Groups may nest `NestingLimit.depth` deep: the parser and every walk over its tree recurse once
// per level, and a pattern is input from a catalogue.

import JSON

/// Why a pattern was rejected (turned into `SchemaCompileError.invalidPattern`).
struct RegexError: Error {
    var reason: String
}

struct RegexParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    /// Groups open around the current position.
    private var depth = 0

    /// Parses a whole pattern.
    static func parse(_ pattern: String) throws(RegexError) -> RegexNode {
        var parser = RegexParser(scalars: Array(pattern.unicodeScalars))
        let node = try parser.disjunction()
        if parser.index < parser.scalars.count {
            throw RegexError(reason: "unbalanced ')' at offset \(parser.index)")
        }
        return node
    }

    private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func next() throws(RegexError) -> Unicode.Scalar {
        guard let c = peek else { throw RegexError(reason: "unexpected end of pattern") }
        index += 1
        return c
    }

    private mutating func disjunction() throws(RegexError) -> RegexNode {
        var branches = [try alternative()]
        while peek == "|" {
            index += 1
            branches.append(try alternative())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func alternative() throws(RegexError) -> RegexNode {
        var terms: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            terms.append(try term())
        }
        return terms.count == 1 ? terms[0] : .sequence(terms)
    }

    private mutating func term() throws(RegexError) -> RegexNode {
        if peek == "{" && quantifierBraces() != nil { throw RegexError(reason: "nothing to repeat before '{'") }
        let c = try next()
        let atom: RegexNode
        switch c {
        case "^": return .start
        case "$": return .end
        case "*", "+", "?": throw RegexError(reason: "nothing to repeat before '\(c)'")
        case ".": atom = .set(.dot)
        case "(": atom = try group()
        case "[": atom = .set(try characterClass())
        case "\\": atom = .set(try atomEscape())
        case ")": throw RegexError(reason: "unbalanced ')'")
        default: atom = .set(ScalarSet(scalar: c.value))
        }
        return try quantified(atom)
    }

    private mutating func group() throws(RegexError) -> RegexNode {
        if peek == "?" {
            switch peek(1) {
            case ":": index += 2
            case "=", "!": throw RegexError(reason: "lookahead assertions are not supported")
            case "<" where peek(2) == "=" || peek(2) == "!":
                throw RegexError(reason: "lookbehind assertions are not supported")
            case "<":
                index += 2
                while let c = peek, c != ">" { index += 1 }
                guard peek == ">" else { throw RegexError(reason: "unterminated group name") }
                index += 1
            default: throw RegexError(reason: "unsupported group syntax '(?'")
            }
        }
        guard depth < NestingLimit.depth else {
            throw RegexError(reason: "groups nest deeper than \(NestingLimit.depth) levels at offset \(index)")
        }
        depth += 1
        defer { depth -= 1 }
        let inner = try disjunction()
        guard peek == ")" else { throw RegexError(reason: "missing ')'") }
        index += 1
        return inner
    }

    /// A quantifier after `atom`, if any; a lazy `?` suffix is accepted and ignored.
    private mutating func quantified(_ atom: RegexNode) throws(RegexError) -> RegexNode {
        var bounds: (Int, Int?)
        switch peek {
        case "*": bounds = (0, nil); index += 1
        case "+": bounds = (1, nil); index += 1
        case "?": bounds = (0, 1); index += 1
        case "{":
            guard let (braced, length) = quantifierBraces() else { return atom }
            bounds = braced
            index += length
        default: return atom
        }
        if peek == "?" { index += 1 }
        if let max = bounds.1, max < bounds.0 { throw RegexError(reason: "quantifier {\(bounds.0),\(max)} is out of order") }
        if bounds.0 > 10_000 || (bounds.1 ?? 0) > 10_000 { throw RegexError(reason: "quantifier too large") }
        if peek == "*" || peek == "+" || peek == "?" || (peek == "{" && quantifierBraces() != nil) {
            throw RegexError(reason: "nothing to repeat (double quantifier)")
        }
        return .repetition(atom, min: bounds.0, max: bounds.1)
    }

    /// `{m}`, `{m,}` or `{m,n}` at the current position: the bounds and the text length.
    /// (A `{` that starts none of these is a literal, as in Annex B.)
    private func quantifierBraces() -> ((Int, Int?), Int)? {
        var i = index
        guard i < scalars.count, scalars[i] == "{" else { return nil }
        i += 1
        func number(_ i: inout Int) -> Int? {
            var value = 0
            var seen = false
            while i < scalars.count, let d = Int(String(scalars[i])), ("0"..."9").contains(scalars[i]) {
                value = min(value * 10 + d, 1_000_000)
                seen = true
                i += 1
            }
            return seen ? value : nil
        }
        guard let low = number(&i), i < scalars.count else { return nil }
        var high: Int? = low
        if scalars[i] == "," {
            i += 1
            high = number(&i)
        }
        guard i < scalars.count, scalars[i] == "}" else { return nil }
        return ((low, high), i + 1 - index)
    }

    /// After `\` outside a class.
    private mutating func atomEscape() throws(RegexError) -> ScalarSet {
        let c = try next()
        switch c {
        case "b": throw RegexError(reason: "word boundary \\b is not supported")
        case "B": throw RegexError(reason: "non-word boundary \\B is not supported")
        case "1"..."9": throw RegexError(reason: "backreferences are not supported")
        case "k" where peek == "<": throw RegexError(reason: "named backreferences are not supported")
        default: return try escapeSet(c, inClass: false)
        }
    }

    /// The set an escape `\c` denotes (shared by atoms and classes).
    private mutating func escapeSet(_ c: Unicode.Scalar, inClass: Bool) throws(RegexError) -> ScalarSet {
        switch c {
        case "d": return .digits
        case "D": return ScalarSet.digits.complement
        case "w": return .word
        case "W": return ScalarSet.word.complement
        case "s": return .whitespace
        case "S": return ScalarSet.whitespace.complement
        case "p", "P": throw RegexError(reason: "Unicode property escapes \\\(c) are not supported")
        default: return ScalarSet(scalar: try characterEscape(c, inClass: inClass))
        }
    }

    /// A single-character escape `\c`.
    private mutating func characterEscape(_ c: Unicode.Scalar, inClass: Bool) throws(RegexError) -> UInt32 {
        switch c {
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "f": return 0x0C
        case "v": return 0x0B
        case "b" where inClass: return 0x08
        case "0":
            if let d = peek, ("0"..."9").contains(d) { throw RegexError(reason: "octal escapes are not supported") }
            return 0
        case "c":
            guard let letter = peek, ("a"..."z").contains(letter) || ("A"..."Z").contains(letter) else {
                throw RegexError(reason: "invalid control escape \\c")
            }
            index += 1
            return letter.value % 32
        case "x": return try hexDigits(count: 2)
        case "u":
            if peek == "{" {
                index += 1
                var value: UInt32 = 0
                var digits = 0
                while let h = peek, h != "}" {
                    guard let d = UInt32(String(h), radix: 16) else {
                        throw RegexError(reason: "invalid \\u{…} escape")
                    }
                    value = value &* 16 &+ d
                    digits += 1
                    index += 1
                }
                guard peek == "}", digits > 0, digits <= 6, value <= ScalarSet.maxScalar else { throw RegexError(reason: "invalid \\u{…} escape") }
                index += 1
                return value
            }
            return try hexDigits(count: 4)
        default:
            if ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) {
                throw RegexError(reason: "unknown escape \\\(c)")
            }
            return c.value
        }
    }

    private mutating func hexDigits(count: Int) throws(RegexError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let h = peek, let d = UInt32(String(h), radix: 16) else {
                throw RegexError(reason: "invalid hexadecimal escape")
            }
            value = value * 16 + d
            index += 1
        }
        return value
    }

    /// After `[`: a class, possibly negated, up to and including `]`.
    private mutating func characterClass() throws(RegexError) -> ScalarSet {
        var negated = false
        if peek == "^" {
            negated = true
            index += 1
        }
        var set = ScalarSet([])
        while true {
            guard let c = peek else { throw RegexError(reason: "missing ']'") }
            if c == "]" {
                index += 1
                break
            }
            let low = try classAtom()
            if peek == "-", let after = peek(1), after != "]" {
                index += 1
                let high = try classAtom()
                guard let a = low.single, let b = high.single else {
                    throw RegexError(reason: "a class escape cannot bound a range")
                }
                guard a <= b else { throw RegexError(reason: "range out of order in character class") }
                set = set.union(ScalarSet([a...b]))
            } else {
                set = set.union(low)
            }
        }
        return negated ? set.complement : set
    }

    private mutating func classAtom() throws(RegexError) -> ScalarSet {
        let c = try next()
        guard c == "\\" else { return ScalarSet(scalar: c.value) }
        return try escapeSet(try next(), inClass: true)
    }
}
