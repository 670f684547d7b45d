// Seeded sampling of strings that a `pattern` accepts, for synthetic training data.
//
// The sampler walks the same parsed regex tree that `PatternMatcher` compiles (so both read the
// pattern identically) and draws one path through it: one branch of each alternation, a count for
// each repetition, one character of each class. Draws are biased towards what a person would type:
// short repetitions, and within a class lower-case letters, then digits, then capitals, then
// punctuation, before any other scalar. Every draw is re-checked with `PatternMatcher` (anchors in
// odd places, such as `a^b`, can make a path impossible); a sample that fails is retried, and after
// a bounded number of attempts the sampler gives up with nil rather than return a wrong string.
//
// Randomness comes only from the caller's generator, through `next()`, so a seeded generator gives
// the same strings on every platform and Swift version (no reliance on the standard library's
// `random(in:)` algorithms).

/// Draws strings that match one `pattern`.
public struct PatternSampler: Sendable {
    /// The pattern as written.
    public let source: String
    private let tree: RegexNode
    private let matcher: PatternMatcher

    /// Unbounded repetitions (`*`, `+`, `{n,}`) add at most this many items beyond their minimum.
    public static let unboundedExtra = 8

    /// Compiles `pattern`; throws for the syntax `PatternMatcher` rejects.
    public init(_ pattern: String) throws(PatternError) {
        do { tree = try RegexParser.parse(pattern) } catch { throw PatternError(reason: error.reason) }
        matcher = try PatternMatcher(pattern)
        source = pattern
    }

    /// Whether `text` matches the pattern (the validator's own check).
    public func matches(_ text: String) -> Bool { matcher.matches(text) }

    /// One matching string, or nil when `attempts` walks all failed the matcher.
    public func sample<G: RandomNumberGenerator>(using generator: inout G, attempts: Int = 20) -> String? {
        for _ in 0..<max(1, attempts) {
            var walk = Walk()
            walk.emit(tree, using: &generator)
            if walk.possible, matcher.matches(walk.text) { return walk.text }
        }
        return nil
    }
}

/// One path through the tree.
private struct Walk {
    var text = ""
    var possible = true
    private var ended = false

    mutating func emit<G: RandomNumberGenerator>(_ node: RegexNode, using generator: inout G) {
        guard possible else { return }
        switch node {
        case .set(let set):
            guard !ended, let scalar = Self.pick(from: set, using: &generator) else { possible = false; return }
            text.unicodeScalars.append(scalar)
        case .sequence(let parts):
            for part in parts { emit(part, using: &generator) }
        case .alternation(let branches):
            guard !branches.isEmpty else { return }
            emit(branches[Self.uniform(branches.count, using: &generator)], using: &generator)
        case .repetition(let inner, let min, let max):
            for _ in 0..<Self.count(min: min, max: max, using: &generator) { emit(inner, using: &generator) }
        case .start:
            if !text.isEmpty { possible = false }
        case .end:
            ended = true
        }
    }

    /// A repetition count: uniform over short ranges, otherwise small extras are likelier.
    private static func count<G: RandomNumberGenerator>(min: Int, max: Int?, using generator: inout G) -> Int {
        let spread = Swift.min((max ?? Int.max) - min, PatternSampler.unboundedExtra)
        guard spread > 0 else { return min }
        if let max, max - min <= 6 { return min + uniform(max - min + 1, using: &generator) }
        // Two uniform draws, keep the smaller: a triangular bias towards the minimum.
        return min + Swift.min(uniform(spread + 1, using: &generator), uniform(spread + 1, using: &generator))
    }

    /// Character groups in order of preference, with the weight each gets when the class has it.
    private static let groups: [(set: ScalarSet, weight: Int)] = [
        (ScalarSet([0x61...0x7A]), 70),                           // a-z
        (ScalarSet([0x30...0x39]), 20),                           // 0-9
        (ScalarSet([0x41...0x5A]), 10),                           // A-Z
        (ScalarSet([0x2D...0x2D, 0x5F...0x5F, 0x2E...0x2E]), 3),  // - _ .
        (ScalarSet([0x20...0x20]), 2),                            // space
    ]

    /// A scalar of `set`: a weighted choice among the preferred groups it meets, else printable
    /// ASCII, else its first non-control scalar.
    private static func pick<G: RandomNumberGenerator>(from set: ScalarSet, using generator: inout G) -> Unicode.Scalar? {
        let present = groups.compactMap { group -> (members: [UInt32], weight: Int)? in
            let members = set.members(of: group.set)
            return members.isEmpty ? nil : (members, group.weight)
        }
        if !present.isEmpty {
            var roll = uniform(present.reduce(0) { $0 + $1.weight }, using: &generator)
            for group in present {
                if roll < group.weight { return Unicode.Scalar(group.members[uniform(group.members.count, using: &generator)]) }
                roll -= group.weight
            }
        }
        let printable = set.members(of: ScalarSet([0x21...0x7E]))
        if !printable.isEmpty { return Unicode.Scalar(printable[uniform(printable.count, using: &generator)]) }
        let usable = set.subtracting(ScalarSet.mustEscape).subtracting(ScalarSet([0xD800...0xDFFF]))
        guard let first = usable.ranges.first else { return nil }
        return Unicode.Scalar(first.lowerBound)
    }

    /// A value in `0..<bound` from the generator's raw bits (the modulo bias is irrelevant here).
    static func uniform<G: RandomNumberGenerator>(_ bound: Int, using generator: inout G) -> Int {
        guard bound > 1 else { return 0 }
        return Int(generator.next() % UInt64(bound))
    }
}
