// GBNF, the grammar dialect of llama.cpp, read into the grammar IR.
//
// Layout rules follow llama.cpp's parser:
// - Spaces, tabs and `#` comments (to the end of the line) may appear between any two tokens.
// - A rule ends at the first newline outside parentheses. A body may continue on later lines
//   inside `( ... )`, right after `::=`, and right after `|`; a line that *starts* with `|`
//   does not continue the previous rule (it is an error: a rule name is expected there).
// - `::=` must be on the same line as the rule name.
// - Literals and classes may contain raw newlines; they are matched literally.
//
// IR shapes produced: a body or group with one alternative is that alternative, and a
// sequence of one item is that item; so `("a")` and `"a"` both give `.literal("a")`.
//
// Escapes are `\n \r \t \\ \" \[ \]` and `\xHH \uHHHH \UHHHHHHHH`, which all name a code point
// (so `"\xE9"` is "é", two UTF-8 bytes, not the byte 0xE9). There is no `\-` or `\^`; a `-`
// right after `[` or right before `]` is literal, `[^]` is any scalar and `[]` matches nothing.
//
// Where this parser differs from llama.cpp:
// - a second definition of a rule is an error (llama.cpp silently keeps the last one);
// - a reversed range like `[z-a]` is an error (llama.cpp accepts it; it matches nothing);
// - a `\u`/`\U` escape in a literal must be a Unicode scalar (no surrogates, <= 0x10FFFF);
// - repetition counts above `maxRepetition` are errors (llama.cpp instead limits how large
//   the expanded rules may grow);
// - a quantifier may follow `""` (llama.cpp rejects `""*`: the empty literal leaves it no item).

extension GBNF {
    /// Parses GBNF `text` into a grammar whose start rule is `root`.
    ///
    /// - Throws: `GrammarError.syntax` with a 1-based line and column (in Unicode scalars) for
    ///   malformed text, `.undefinedReference` for the first use of a rule that is never defined,
    ///   and `.missingRoot` when no rule is named `root`.
    public static func parse(_ text: String, root: String = "root") throws(GrammarError) -> Grammar {
        var parser = GBNFParser(text)
        let rules = try parser.parseRules()
        guard rules.contains(where: { $0.name == root }) else { throw .missingRoot(root) }
        return Grammar(rules: rules, root: root)
    }

    /// Parses GBNF `text` that need not define a root, such as a library of shared rules.
    ///
    /// - Throws: the errors of `parse(_:root:)`, except `.missingRoot`.
    public static func parseRules(_ text: String) throws(GrammarError) -> [GrammarRule] {
        var parser = GBNFParser(text)
        return try parser.parseRules()
    }
}

/// A recursive-descent reader over the text's Unicode scalars.
struct GBNFParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var rules: [GrammarRule] = []
    private var defined: Set<String> = []
    /// Every rule reference, with where it appeared, in reading order.
    private var references: [(name: String, position: Int)] = []

    /// Largest repetition count accepted in `{m,n}`.
    static let maxRepetition = 100_000

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    // MARK: Rules

    /// Every rule in the text, in order, once all references are known to be defined.
    mutating func parseRules() throws(GrammarError) -> [GrammarRule] {
        skipSpace(newlines: true)
        while peek() != nil { try parseRule() }
        for reference in references where !defined.contains(reference.name) {
            let (line, column) = lineAndColumn(of: reference.position)
            throw .undefinedReference(reference.name, line: line, column: column)
        }
        return rules
    }

    /// `name ::= alternatives`, then a newline or the end of the text.
    private mutating func parseRule() throws(GrammarError) {
        let start = position
        guard let name = parseName() else { throw error("expected rule name", at: start) }
        guard !defined.contains(name) else { throw error("duplicate rule '\(name)'", at: start) }
        skipSpace(newlines: false)
        guard peek() == ":", peek(1) == ":", peek(2) == "=" else {
            throw error("expected '::=' after rule name '\(name)'", at: position)
        }
        position += 3
        skipSpace(newlines: true)
        let body = try parseAlternatives(nested: false)
        defined.insert(name)
        rules.append(GrammarRule(name: name, body: body))
        switch peek() {
        case "\r":
            position += peek(1) == "\n" ? 2 : 1
        case "\n":
            position += 1
        case nil:
            break
        case let other?:
            throw error("unexpected \(describe(other)) after rule body", at: position)
        }
        skipSpace(newlines: true)
    }

    /// `sequence ( "|" sequence )*`; newlines may follow each `|`.
    private mutating func parseAlternatives(nested: Bool) throws(GrammarError) -> GrammarExpr {
        var alternatives = [try parseSequence(nested: nested)]
        while peek() == "|" {
            position += 1
            skipSpace(newlines: true)
            alternatives.append(try parseSequence(nested: nested))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// Items with their quantifiers, up to something that cannot start an item.
    private mutating func parseSequence(nested: Bool) throws(GrammarError) -> GrammarExpr {
        var items: [GrammarExpr] = []
        while let scalar = peek() {
            let start = position
            switch scalar {
            case "\"":
                items.append(try parseLiteral())
            case "[":
                items.append(.charClass(try parseClass()))
            case ".":
                position += 1
                items.append(.charClass(.any))
            case "(":
                position += 1
                skipSpace(newlines: true)
                let inner = try parseAlternatives(nested: true)
                guard peek() == ")" else { throw error("expected ')' to close group", at: position) }
                position += 1
                items.append(inner)
            case "*", "+", "?", "{":
                guard let last = items.popLast() else {
                    throw error("expected an item before '\(scalar)'", at: start)
                }
                let (min, max) = try parseQuantifier(nested: nested)
                items.append(.repeat(last, min: min, max: max))
            default:
                guard let name = parseName() else {
                    return items.count == 1 ? items[0] : .sequence(items)
                }
                references.append((name, start))
                items.append(.ruleRef(name))
            }
            skipSpace(newlines: nested)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    // MARK: Items

    /// `"..."` with escapes.
    private mutating func parseLiteral() throws(GrammarError) -> GrammarExpr {
        position += 1
        var text = String.UnicodeScalarView()
        while peek() != "\"" {
            guard peek() != nil else { throw error("expected '\"' to close literal", at: position) }
            let start = position
            let value = try parseChar()
            guard let scalar = Unicode.Scalar(value) else {
                throw error("escape \(hex(value)) is not a Unicode scalar", at: start)
            }
            text.append(scalar)
        }
        position += 1
        return .literal(String(text))
    }

    /// `[...]` or `[^...]`: single characters and `a-z` ranges, with escapes.
    private mutating func parseClass() throws(GrammarError) -> CharClass {
        position += 1
        var negated = false
        if peek() == "^" {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while peek() != "]" {
            guard peek() != nil else { throw error("expected ']' to close character class", at: position) }
            let start = position
            let lower = try parseChar()
            var upper = lower
            if peek() == "-", let after = peek(1), after != "]" {
                position += 1
                upper = try parseChar()
            } else if peek() == "-", peek(1) == nil {
                throw error("expected ']' to close character class", at: position + 1)
            }
            guard lower <= upper else {
                throw error("reversed range \(hex(lower))-\(hex(upper)) in character class", at: start)
            }
            ranges.append(lower...upper)
        }
        position += 1
        return CharClass(ranges: ranges, negated: negated)
    }

    /// One character of a literal or class, escapes resolved, as a scalar value.
    private mutating func parseChar() throws(GrammarError) -> UInt32 {
        guard let scalar = peek() else { throw error("unexpected end of input", at: position) }
        guard scalar == "\\" else {
            position += 1
            return scalar.value
        }
        let start = position
        guard let kind = peek(1) else { throw error("expected an escape after '\\'", at: start) }
        position += 2
        switch kind {
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "\\", "\"", "[", "]": return kind.value
        case "x": return try parseHex(digits: 2, escape: start)
        case "u": return try parseHex(digits: 4, escape: start)
        case "U": return try parseHex(digits: 8, escape: start)
        default: throw error("unknown escape '\\\(kind)'", at: start)
        }
    }

    private mutating func parseHex(digits: Int, escape: Int) throws(GrammarError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let scalar = peek(), let digit = hexValue(scalar) else {
                let kind = scalars[escape + 1]
                throw error("expected \(digits) hex digits after '\\\(kind)'", at: escape)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// `*`, `+`, `?`, `{m}`, `{m,}` or `{m,n}` (llama.cpp has no `{,n}`).
    private mutating func parseQuantifier(nested: Bool) throws(GrammarError) -> (Int, Int?) {
        let start = position
        guard let scalar = peek() else { return (0, nil) }
        position += 1
        switch scalar {
        case "*": return (0, nil)
        case "+": return (1, nil)
        case "?": return (0, 1)
        default: break
        }
        skipSpace(newlines: nested)
        let min = try parseCount(after: "'{'")
        skipSpace(newlines: nested)
        var max: Int? = min
        if peek() == "," {
            position += 1
            skipSpace(newlines: nested)
            max = peek().map(isDigit) == true ? try parseCount(after: "','") : nil
            skipSpace(newlines: nested)
            guard peek() == "}" else { throw error("expected '}' to close repetition", at: position) }
        } else if peek() != "}" {
            throw error("expected ',' or '}' in repetition", at: position)
        }
        position += 1
        if let max, max < min {
            throw error("repetition maximum \(max) is below minimum \(min)", at: start)
        }
        return (min, max)
    }

    private mutating func parseCount(after what: String) throws(GrammarError) -> Int {
        let start = position
        var value = 0
        while let scalar = peek(), isDigit(scalar) {
            value = value * 10 + Int(scalar.value - 0x30)
            guard value <= Self.maxRepetition else {
                throw error("repetition count exceeds \(Self.maxRepetition)", at: start)
            }
            position += 1
        }
        guard position > start else { throw error("expected an integer after \(what)", at: start) }
        return value
    }

    /// `[a-zA-Z0-9-]+`, or nil (consuming nothing) when none is here.
    private mutating func parseName() -> String? {
        let start = position
        while let scalar = peek(), isWordChar(scalar) { position += 1 }
        guard position > start else { return nil }
        return String(String.UnicodeScalarView(scalars[start..<position]))
    }

    // MARK: Scanning

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let index = position + offset
        return index < scalars.count ? scalars[index] : nil
    }

    /// Skips spaces, tabs and comments, and line breaks too when `newlines` is true.
    private mutating func skipSpace(newlines: Bool) {
        while let scalar = peek() {
            switch scalar {
            case " ", "\t":
                position += 1
            case "\r" where newlines, "\n" where newlines:
                position += 1
            case "#":
                while let next = peek(), next != "\r", next != "\n" { position += 1 }
            default:
                return
            }
        }
    }

    /// A syntax error at scalar offset `offset`.
    private func error(_ message: String, at offset: Int) -> GrammarError {
        let (line, column) = lineAndColumn(of: offset)
        return .syntax(line: line, column: column, message: message)
    }

    /// 1-based line and column of a scalar offset; `\r\n`, `\n` and `\r` each end a line.
    private func lineAndColumn(of offset: Int) -> (Int, Int) {
        var line = 1
        var column = 1
        var index = 0
        while index < offset, index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\n" || (scalar == "\r" && (index + 1 >= scalars.count || scalars[index + 1] != "\n")) {
                line += 1
                column = 1
            } else if scalar != "\r" {
                column += 1
            }
            index += 1
        }
        return (line, column + (offset - index))
    }
}

// MARK: Character helpers

private func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

private func isWordChar(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || isDigit(scalar) || scalar == "-"
}

private func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
    switch scalar {
    case "0"..."9": return scalar.value - 0x30
    case "a"..."f": return scalar.value - 0x61 + 10
    case "A"..."F": return scalar.value - 0x41 + 10
    default: return nil
    }
}

/// `U+XXXX` for messages.
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

private func describe(_ scalar: Unicode.Scalar) -> String {
    scalar.properties.generalCategory == .control ? "character \(hex(scalar.value))" : "'\(scalar)'"
}
