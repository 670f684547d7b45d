// Where a grammar's request spans are, and which of them a parse can no longer avoid.
//
// A span (a rule of `Grammar.groundedRules`) may admit no substring of a given request at all: an
// order id pattern when the request names no order. The matcher then has to refuse not only the
// span but every path that must pass through it, or the model could write `"refund_order"` and
// find no way on. For each position this layout records the spans every completion from there
// must enter (a bitset: the greatest fixed point of "all alternatives of a rule pass through it"),
// so a stack can be judged per request by or-ing its frames' sets and testing them against the
// request's infeasible spans.

/// The request spans of one `ByteGrammar`.
struct SpanLayout: Sendable {
    /// Number of spans; 0 for grammars without any (every other member is then empty).
    let count: Int
    /// Rule id → span index, −1 for other rules.
    let spanOfRule: [Int32]
    /// Span → one position whose element is a reference to the span's rule (where it can be entered).
    let entryPosition: [Int32]
    /// Bitset words per set.
    let words: Int
    /// Rule id → spans every match of the rule passes through (`words` words each).
    let ruleMust: [UInt64]
    /// Position → spans every completion of its alternative from there passes through (`words` words each).
    let positionMust: [UInt64]

    /// The layout of a grammar without spans.
    init() {
        count = 0; spanOfRule = []; entryPosition = []; words = 0; ruleMust = []; positionMust = []
    }

    /// The layout of the spans `rules` (rule ids) in a compiled grammar.
    init(rules: [Int32], elements: [ByteElement], alternatives: [[Int32]]) {
        count = rules.count
        words = (rules.count + 63) / 64
        var spanOf = [Int32](repeating: -1, count: alternatives.count)
        for (index, rule) in rules.enumerated() { spanOf[Int(rule)] = Int32(index) }
        spanOfRule = spanOf
        var entries = [Int32](repeating: -1, count: rules.count)
        for (p, element) in elements.enumerated() {
            if case .rule(let r) = element, spanOf[Int(r)] >= 0, entries[Int(spanOf[Int(r)])] < 0 {
                entries[Int(spanOf[Int(r)])] = Int32(p)
            }
        }
        entryPosition = entries
        let w = words
        // What entering rule r as an element costs in spans: its own (when it is one) and its body's.
        func element(_ e: ByteElement, _ rule: [UInt64], into set: inout [UInt64]) {
            switch e {
            case .rule(let r):
                for k in 0..<w { set[k] |= rule[Int(r) * w + k] }
                if spanOf[Int(r)] >= 0 { set[Int(spanOf[Int(r)]) / 64] |= 1 << UInt64(spanOf[Int(r)] % 64) }
            case .loop(let body, let min, _) where min > 0:
                element(.rule(body), rule, into: &set)
            default:
                break
            }
        }
        // Greatest fixed point from "every span": rules that cannot complete keep the full set, harmlessly.
        var rule = [UInt64](repeating: ~0, count: alternatives.count * w)
        var changed = true
        while changed {
            changed = false
            for (r, starts) in alternatives.enumerated() {
                var meet = [UInt64](repeating: ~0, count: w)
                for start in starts {
                    var set = [UInt64](repeating: 0, count: w)
                    var p = Int(start)
                    while elements[p] != .end { element(elements[p], rule, into: &set); p += 1 }
                    for k in 0..<w { meet[k] &= set[k] }
                }
                if starts.isEmpty { continue }
                for k in 0..<w where rule[r * w + k] != meet[k] { rule[r * w + k] = meet[k]; changed = true }
            }
        }
        ruleMust = rule
        var position = [UInt64](repeating: 0, count: elements.count * w)
        var running = [UInt64](repeating: 0, count: w)
        for p in stride(from: elements.count - 1, through: 0, by: -1) {
            if elements[p] == .end { running = [UInt64](repeating: 0, count: w) }
            element(elements[p], rule, into: &running)
            for k in 0..<w { position[p * w + k] = running[k] }
        }
        positionMust = position
    }

    /// The span of rule `r`, or −1.
    @inline(__always)
    func span(ofRule r: Int32) -> Int32 { count == 0 ? -1 : spanOfRule[Int(r)] }
}
