// Grammar IR → a flat byte-level grammar the matcher runs: every rule is a list of alternatives,
// every alternative a run of elements (a byte range, a rule reference) ending in `.end`.
// Character classes become UTF-8 byte-range sequences; repeats become helper rules.

import Grammar

/// One step of a compiled alternative.
enum ByteElement: Hashable, Sendable {
    /// One byte in lo...hi.
    case range(UInt8, UInt8)
    /// A rule, by id.
    case rule(Int32)
    /// `body` repeated `min` to `max` times (`max` −1: unbounded). The stack frame at a loop position
    /// carries the count of completed iterations, so every iteration shares the body's positions.
    case loop(body: Int32, min: Int32, max: Int32)
    /// End of the alternative.
    case end
}

/// Why a grammar cannot be compiled for matching.
public enum MatcherCompileError: Error, Equatable, CustomStringConvertible {
    /// A rule reference names no rule.
    case undefinedRule(String)
    /// The start rule does not exist.
    case missingRoot(String)
    /// A rule can reach itself without consuming a byte (the matcher needs a non-left-recursive grammar).
    case leftRecursion(String)
    /// A repeat whose bounds make no sense (`min > max`, negative counts).
    case invalidRepeat(min: Int, max: Int?)
    /// An unbounded repeat of something that can match the empty string (an endless ambiguous loop).
    case nullableRepeat(String)

    public var description: String {
        switch self {
        case .undefinedRule(let name): return "grammar references undefined rule '\(name)'"
        case .missingRoot(let name): return "grammar has no start rule '\(name)'"
        case .leftRecursion(let name): return "rule '\(name)' is left-recursive (reaches itself without consuming input)"
        case .invalidRepeat(let min, let max): return "invalid repeat {\(min),\(max.map(String.init) ?? "")}"
        case .nullableRepeat(let name): return "rule '\(name)' repeats without bound something that can match the empty string"
        }
    }
}

/// A grammar compiled to byte-level rules.
public struct ByteGrammar: Sendable {
    /// Every alternative's elements, laid end to end; each alternative ends with `.end`.
    let elements: [ByteElement]
    /// Rule id → start positions (into `elements`) of its alternatives.
    let alternatives: [[Int32]]
    /// Rule id → name (helper rules get generated names).
    let ruleNames: [String]
    /// The start rule's id.
    let root: Int32
    /// Rule id → fewest bytes the rule can match.
    let ruleCost: [Int]
    /// Position → fewest bytes from that element to the end of its alternative.
    let restCost: [Int]
    /// Token-mask entries computed so far, shared by every matcher (and copy) of this grammar.
    let maskCache = MaskCache()
    /// The request spans (`Grammar.groundedRules`), empty for almost every grammar.
    let spans: SpanLayout

    /// "Cannot terminate": large enough to lose every comparison, small enough not to overflow a sum.
    static let unreachable = Int.max / 4

    /// a + b, saturating at `unreachable`.
    static func add(_ a: Int, _ b: Int) -> Int { min(unreachable, min(a, unreachable) + min(b, unreachable)) }

    /// count · cost, saturating at `unreachable`.
    static func times(_ count: Int, _ cost: Int) -> Int {
        if count == 0 || cost == 0 { return 0 }
        return cost >= unreachable / count ? unreachable : count * cost
    }

    /// Fewest bytes per rule (fixed point) and per position (suffix sums within each alternative).
    private static func costs(elements: [ByteElement], alternatives: [[Int32]]) -> (rules: [Int], rest: [Int]) {
        var rule = [Int](repeating: unreachable, count: alternatives.count)
        func suffix(from start: Int) -> Int {
            var total = 0
            var p = start
            while true {
                switch elements[p] {
                case .end: return total
                case .range: total = add(total, 1)
                case .rule(let r): total = add(total, rule[Int(r)])
                case .loop(let body, let low, _): total = add(total, times(Int(low), rule[Int(body)]))
                }
                p += 1
            }
        }
        var changed = true
        while changed {
            changed = false
            for (r, starts) in alternatives.enumerated() {
                let best = starts.map { suffix(from: Int($0)) }.min() ?? unreachable
                if best < rule[r] { rule[r] = best; changed = true }
            }
        }
        var rest = [Int](repeating: 0, count: elements.count)
        var p = elements.count - 1
        var running = 0
        while p >= 0 {
            switch elements[p] {
            case .end: running = 0
            case .range: running = add(running, 1)
            case .rule(let r): running = add(running, rule[Int(r)])
            case .loop(let body, let low, _): running = add(running, times(Int(low), rule[Int(body)]))
            }
            rest[p] = running
            p -= 1
        }
        return (rule, rest)
    }

    /// Compiles `grammar`, checking references and left recursion.
    public init(_ grammar: Grammar) throws(MatcherCompileError) {
        var builder = Builder()
        for rule in grammar.rules { _ = builder.id(for: rule.name) }
        guard let root = builder.ids[grammar.root] else { throw .missingRoot(grammar.root) }
        for rule in grammar.rules {
            let id = builder.ids[rule.name] ?? 0
            builder.bodies[Int(id)] = try builder.alternatives(rule.body)
        }
        var elements: [ByteElement] = []
        var starts: [[Int32]] = []
        for body in builder.bodies {
            var ruleStarts: [Int32] = []
            for alternative in body ?? [] {
                ruleStarts.append(Int32(elements.count))
                elements.append(contentsOf: alternative)
                elements.append(.end)
            }
            starts.append(ruleStarts)
        }
        self.elements = elements
        self.alternatives = starts
        self.ruleNames = builder.names
        self.root = root
        (ruleCost, restCost) = Self.costs(elements: elements, alternatives: starts)
        let groundedIDs = grammar.groundedRules.compactMap { builder.ids[$0] }.sorted()
        spans = groundedIDs.isEmpty ? SpanLayout() : SpanLayout(rules: groundedIDs, elements: elements, alternatives: starts)
        if let rule = Self.leftRecursiveRule(elements: elements, alternatives: starts) {
            throw .leftRecursion(builder.names[Int(rule)])
        }
        for element in elements {
            if case .loop(let body, _, let max) = element, max < 0, ruleCost[Int(body)] == 0 {
                throw .nullableRepeat(builder.names[Int(body)])
            }
        }
    }

    /// True when the grammar has `x-from-input` spans (matchers then want the request's text).
    public var hasRequestSpans: Bool { spans.count > 0 }

    /// Number of rules, helper rules included.
    public var ruleCount: Int { alternatives.count }

    /// Position → fewest bytes from that element to the end of its alternative (`Int.max / 4` when
    /// the rest cannot terminate). A stack's cost to complete is the sum over its frames.
    public var remainingBytes: [Int] { restCost }

    /// The fewest bytes any complete match has.
    public var minimumLength: Int { ruleCost[Int(root)] }

    /// A rule that reaches itself through nullable prefixes, if any.
    private static func leftRecursiveRule(elements: [ByteElement], alternatives: [[Int32]]) -> Int32? {
        // Nullable rules by fixed point.
        var nullable = [Bool](repeating: false, count: alternatives.count)
        var changed = true
        while changed {
            changed = false
            for (r, starts) in alternatives.enumerated() where !nullable[r] {
                for start in starts {
                    var p = Int(start)
                    var allNullable = true
                    while elements[p] != .end {
                        if case .rule(let s) = elements[p], nullable[Int(s)] { p += 1; continue }
                        if case .loop(let body, let low, _) = elements[p], low == 0 || nullable[Int(body)] { p += 1; continue }
                        allNullable = false
                        break
                    }
                    if allNullable { nullable[r] = true; changed = true; break }
                }
            }
        }
        // Edges r → s where s can be the first thing r consumes with.
        var edges = [[Int32]](repeating: [], count: alternatives.count)
        for (r, starts) in alternatives.enumerated() {
            for start in starts {
                var p = Int(start)
                while true {
                    if case .rule(let s) = elements[p] {
                        edges[r].append(s)
                        if !nullable[Int(s)] { break }
                    } else if case .loop(let body, let low, _) = elements[p] {
                        edges[r].append(body)
                        if low > 0 && !nullable[Int(body)] { break }
                    } else {
                        break
                    }
                    p += 1
                }
            }
        }
        // Cycle search.
        var state = [UInt8](repeating: 0, count: alternatives.count)   // 0 new, 1 on path, 2 done
        func visit(_ r: Int) -> Int32? {
            state[r] = 1
            for s in edges[r] {
                if state[Int(s)] == 1 { return s }
                if state[Int(s)] == 0, let found = visit(Int(s)) { return found }
            }
            state[r] = 2
            return nil
        }
        for r in 0..<alternatives.count where state[r] == 0 {
            if let found = visit(r) { return found }
        }
        return nil
    }
}

/// Accumulates rules while lowering the IR.
private struct Builder {
    var ids: [String: Int32] = [:]
    var names: [String] = []
    var bodies: [[[ByteElement]]?] = []
    /// Helper rules by content, so identical helpers (e.g. every string's character rule) are one rule.
    var helperIDs: [[[ByteElement]]: Int32] = [:]

    mutating func id(for name: String) -> Int32 {
        if let id = ids[name] { return id }
        let id = Int32(names.count)
        ids[name] = id
        names.append(name)
        bodies.append(nil)
        return id
    }

    /// A new helper rule with the given alternatives.
    mutating func helper(_ hint: String, _ alternatives: [[ByteElement]]) -> Int32 {
        if let existing = helperIDs[alternatives] { return existing }
        let id = Int32(names.count)
        names.append("_\(hint)\(id)")
        bodies.append(alternatives)
        helperIDs[alternatives] = id
        return id
    }

    /// The alternatives of an expression used as a whole rule body.
    mutating func alternatives(_ expr: GrammarExpr) throws(MatcherCompileError) -> [[ByteElement]] {
        if case .choice(let options) = expr {
            var out: [[ByteElement]] = []
            for option in options { out.append(contentsOf: try alternatives(option)) }
            return out
        }
        if case .charClass(let cls) = expr { return classAlternatives(cls) }
        return [try sequence(expr)]
    }

    /// One alternative's elements for an expression inside a sequence.
    mutating func sequence(_ expr: GrammarExpr) throws(MatcherCompileError) -> [ByteElement] {
        switch expr {
        case .literal(let text):
            return text.utf8.map { .range($0, $0) }
        case .ruleRef(let name):
            guard let id = ids[name] else { throw .undefinedRule(name) }
            return [.rule(id)]
        case .sequence(let parts):
            var out: [ByteElement] = []
            for part in parts { out.append(contentsOf: try sequence(part)) }
            return out
        case .choice(let options):
            if options.count == 1, let only = options.first { return try sequence(only) }
            return [.rule(helper("alt", try alternatives(expr)))]
        case .charClass(let cls):
            let alts = classAlternatives(cls)
            if alts.count == 1, let only = alts.first { return only }
            return [.rule(helper("cls", alts))]
        case .repeat(let body, let min, let max):
            guard min >= 0, max.map({ $0 >= min }) ?? true else { throw .invalidRepeat(min: min, max: max) }
            if max == 0 { return [] }
            // The body as one rule: a referenced rule directly (so repeats of one rule share positions), else a helper.
            let bodyRule: Int32
            if case .ruleRef(let name) = body {
                guard let id = ids[name] else { throw .undefinedRule(name) }
                bodyRule = id
            } else {
                bodyRule = helper("rep", try alternatives(body))
            }
            return [.loop(body: bodyRule, min: Int32(clamping: min), max: Int32(clamping: max ?? -1))]
        }
    }

    /// A character class as alternatives of UTF-8 byte-range runs.
    func classAlternatives(_ cls: CharClass) -> [[ByteElement]] {
        let scalars = cls.negated ? UTF8Ranges.complement(cls.ranges) : UTF8Ranges.normalized(cls.ranges)
        let sequences = UTF8Ranges.sequences(for: scalars)
        // Merge single-byte pieces into one run per contiguous byte range (they are already merged by scalar).
        return sequences.map { $0.bytes.map { ByteElement.range($0.lowerBound, $0.upperBound) } }
    }
}
