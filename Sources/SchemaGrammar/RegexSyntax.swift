// The parsed form of a `pattern`: an ECMA-262 subset (no backreferences, no lookaround).

/// A regular expression over decoded string characters.
indirect enum RegexNode: Equatable, Sendable {
    /// One character from the set.
    case set(ScalarSet)
    /// Each part in turn.
    case sequence([RegexNode])
    /// Any one of the branches.
    case alternation([RegexNode])
    /// `min` to `max` repetitions (nil: unbounded). Lazy quantifiers are the same language.
    case repetition(RegexNode, min: Int, max: Int?)
    /// `^`.
    case start
    /// `$`.
    case end

    /// Fewest characters this node matches.
    var minLength: Int {
        switch self {
        case .set: return 1
        case .start, .end: return 0
        case .sequence(let parts): return parts.reduce(0) { Self.add($0, $1.minLength) }
        case .alternation(let branches): return branches.map(\.minLength).min() ?? 0
        case .repetition(let inner, let min, _): return Self.multiply(min, inner.minLength)
        }
    }

    /// Most characters this node matches (nil: unbounded).
    var maxLength: Int? {
        switch self {
        case .set: return 1
        case .start, .end: return 0
        case .sequence(let parts):
            var total = 0
            for part in parts {
                guard let m = part.maxLength else { return nil }
                total = Self.add(total, m)
            }
            return total
        case .alternation(let branches):
            var best = 0
            for branch in branches {
                guard let m = branch.maxLength else { return nil }
                best = max(best, m)
            }
            return best
        case .repetition(let inner, _, let max):
            guard let max, let m = inner.maxLength else { return inner.maxLength == 0 ? 0 : nil }
            return Self.multiply(max, m)
        }
    }

    /// Lengths saturate at this value (far beyond any string the compiler admits).
    static let saturation = 1 << 40

    private static func add(_ a: Int, _ b: Int) -> Int { Swift.min(saturation, a + b) }

    private static func multiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? saturation : Swift.min(saturation, product)
    }

    /// True for a repetition without a maximum.
    var isUnbounded: Bool {
        if case .repetition(_, _, nil) = self { return true }
        return false
    }

    /// Number of unbounded repetitions inside.
    var unboundedCount: Int {
        switch self {
        case .set, .start, .end: return 0
        case .sequence(let parts), .alternation(let parts): return parts.reduce(0) { $0 + $1.unboundedCount }
        case .repetition(let inner, _, let max): return inner.unboundedCount + (max == nil ? 1 : 0)
        }
    }

    /// True when an anchor occurs anywhere inside.
    var containsAnchor: Bool {
        switch self {
        case .start, .end: return true
        case .set: return false
        case .sequence(let parts), .alternation(let parts): return parts.contains { $0.containsAnchor }
        case .repetition(let inner, _, _): return inner.containsAnchor
        }
    }

    /// The same node with every unbounded repetition given a maximum: enough repetitions to
    /// spend `budget` characters beyond the minimum (inner repetitions capped first).
    func capped(budget: Int) -> RegexNode {
        switch self {
        case .set, .start, .end: return self
        case .sequence(let parts): return .sequence(parts.map { $0.capped(budget: budget) })
        case .alternation(let parts): return .alternation(parts.map { $0.capped(budget: budget) })
        case .repetition(let inner, let min, let max):
            let body = inner.capped(budget: budget)
            if let max { return .repetition(body, min: min, max: max) }
            let unit = body.maxLength ?? 1
            let extra = unit == 0 ? 0 : budget / unit
            return .repetition(body, min: min, max: min + extra)
        }
    }
}
