// From a parsed pattern to grammar over the JSON-encoded string body.
//
// The regex speaks about decoded characters; the grammar matches the JSON text, so each
// character class becomes its raw members plus the canonical escapes of members JSON cannot
// write raw (`"` → `\"`, `\` → `\\`, newline → `\n`, other controls → `\u00xx`).
// JSON Schema patterns are unanchored: a top-level branch without `^` may be preceded by any
// characters, one without `$` followed by any. Unbounded repetitions get a maximum so that the
// string stays within its length budget.

import Grammar

/// A pattern compiled to the body of a JSON string (without the quotes).
struct CompiledPattern {
    /// The grammar of the string body.
    var body: GrammarExpr
    /// Fewest and most characters (decoded) the body can hold.
    var minLength: Int
    var maxLength: Int
}

enum RegexGrammar {
    /// Compiles `pattern` for strings of at most `budget` characters: each top-level branch's
    /// unbounded parts share the characters left after its minimum. When a branch is shorter
    /// than `minimum`, its free prefix/suffix and then its top-level repetitions of fixed-length
    /// items are made to repeat more (which only removes strings, so stays sound).
    static func compile(_ pattern: String, budget: Int, minimum: Int = 0) throws(RegexError) -> CompiledPattern {
        let tree = try RegexParser.parse(pattern)
        let branches: [RegexNode]
        if case .alternation(let list) = tree { branches = list } else { branches = [tree] }
        var alternatives: [GrammarExpr] = []
        var minLength = Int.max
        var maxLength = 0
        for branch in branches {
            var parts: [RegexNode]
            if case .sequence(let list) = branch { parts = list } else { parts = [branch] }
            var anchoredStart = false
            var anchoredEnd = false
            while parts.first == .start { parts.removeFirst(); anchoredStart = true }
            while parts.last == .end { parts.removeLast(); anchoredEnd = true }
            if parts.contains(where: { $0.containsAnchor }) {
                throw RegexError(reason: "anchors are supported only at the start and end of a top-level alternative")
            }
            let core = RegexNode.sequence(parts)
            let freeSides = (anchoredStart ? 0 : 1) + (anchoredEnd ? 0 : 1)
            let unbounded = core.unboundedCount + freeSides
            let share = unbounded == 0 ? 0 : max(0, budget - core.minLength) / unbounded
            var cappedParts = parts.map { $0.capped(budget: share) }

            // Lengthen a branch that is too short: free sides first, then repetitions.
            var deficit = minimum - RegexNode.sequence(cappedParts).minLength
            var prefixMin = 0
            var suffixMin = 0
            if deficit > 0 && !anchoredStart { prefixMin = min(deficit, share); deficit -= prefixMin }
            if deficit > 0 && !anchoredEnd { suffixMin = min(deficit, share); deficit -= suffixMin }
            // Repetitions that were unbounded in the pattern first, then the others.
            let order = cappedParts.indices.filter { parts[$0].isUnbounded } + cappedParts.indices.filter { !parts[$0].isUnbounded }
            for index in order where deficit > 0 {
                guard case .repetition(let inner, let low, let high?) = cappedParts[index] else { continue }
                let unit = inner.minLength
                guard unit > 0 else { continue }
                let added = min(high - low, (deficit + unit - 1) / unit)
                cappedParts[index] = .repetition(inner, min: low + added, max: high)
                deficit -= added * unit
            }
            let cappedCore = RegexNode.sequence(cappedParts)

            var pieces: [GrammarExpr] = []
            if !anchoredStart { pieces.append(.repeat(.ruleRef(JSONPrimitives.char), min: prefixMin, max: share)) }
            pieces.append(try expression(cappedCore))
            if !anchoredEnd { pieces.append(.repeat(.ruleRef(JSONPrimitives.char), min: suffixMin, max: share)) }
            alternatives.append(simplified(.sequence(pieces)))
            minLength = min(minLength, cappedCore.minLength + prefixMin + suffixMin)
            maxLength = max(maxLength, (cappedCore.maxLength ?? 0) + freeSides * share)
        }
        let body = alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
        return CompiledPattern(body: body, minLength: minLength, maxLength: maxLength)
    }

    /// Grammar for a node whose repetitions are all bounded.
    private static func expression(_ node: RegexNode) throws(RegexError) -> GrammarExpr {
        switch node {
        case .set(let set): return try encoded(set)
        case .sequence(let parts):
            var out: [GrammarExpr] = []
            for part in parts { out.append(try expression(part)) }
            return simplified(.sequence(out))
        case .alternation(let branches):
            var out: [GrammarExpr] = []
            for branch in branches { out.append(try expression(branch)) }
            return .choice(out)
        case .repetition(let inner, let min, let max):
            return .repeat(try expression(inner), min: min, max: max)
        case .start, .end:
            throw RegexError(reason: "anchors are supported only at the start and end of a top-level alternative")
        }
    }

    /// Every canonical escape (as `CompactJSON.escaped` writes them): `\"`, `\\`, `\b`, `\t`,
    /// `\n`, `\f`, `\r`, and `\u00xx` in lower-case hex for the other control characters.
    static let canonicalEscape = GrammarExpr.sequence([
        .literal("\\"),
        .choice([
            .charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0x62...0x62, 0x66...0x66, 0x6E...0x6E, 0x72...0x72, 0x74...0x74])),
            .sequence([.literal("u00"), .choice([
                .sequence([.literal("0"), .charClass(CharClass(ranges: [0x30...0x37, 0x62...0x62, 0x65...0x66]))]),
                .sequence([.literal("1"), .charClass(CharClass(ranges: [0x30...0x39, 0x61...0x66]))]),
            ])]),
        ]),
    ])

    /// One decoded character of `set`, as JSON text: raw members plus canonical escapes.
    static func encoded(_ set: ScalarSet) throws(RegexError) -> GrammarExpr {
        if set.isEmpty { throw RegexError(reason: "a character class matches nothing") }
        let raw = set.subtracting(.mustEscape)
        var alternatives: [GrammarExpr] = []
        if let single = raw.single, let scalar = Unicode.Scalar(single) {
            alternatives.append(.literal(String(scalar)))
        } else if !raw.isEmpty {
            let outside = raw.complement
            alternatives.append(outside.ranges.count < raw.ranges.count
                ? .charClass(CharClass(ranges: outside.ranges, negated: true))
                : .charClass(CharClass(ranges: raw.ranges)))
        }
        if set.intersection(.mustEscape) == .mustEscape {
            alternatives.append(canonicalEscape)
        } else {
            for value in set.members(of: .mustEscape) {
                if let scalar = Unicode.Scalar(value) { alternatives.append(.literal(CompactJSON.escaped(scalar))) }
            }
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }
}
