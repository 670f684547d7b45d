// Sets of Unicode scalars as sorted, disjoint, non-adjacent inclusive ranges: the character
// classes of the regex compiler before they are written as JSON-encoded grammar.

/// A set of Unicode scalar values.
struct ScalarSet: Hashable, Sendable {
    /// Sorted, disjoint, non-adjacent ranges.
    private(set) var ranges: [ClosedRange<UInt32>]

    static let maxScalar: UInt32 = 0x10FFFF

    /// The set covering `ranges` (in any order, overlapping or not).
    init(_ ranges: [ClosedRange<UInt32>]) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    /// One scalar.
    init(scalar: UInt32) { self.init([scalar...scalar]) }

    var isEmpty: Bool { ranges.isEmpty }

    /// Every scalar not in this set.
    var complement: ScalarSet {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { out.append(next...(range.lowerBound - 1)) }
            next = range.upperBound &+ 1
        }
        if !ranges.isEmpty && ranges[ranges.count - 1].upperBound == Self.maxScalar { return ScalarSet(out) }
        if next <= Self.maxScalar { out.append(next...Self.maxScalar) }
        return ScalarSet(out)
    }

    func union(_ other: ScalarSet) -> ScalarSet { ScalarSet(ranges + other.ranges) }

    func subtracting(_ other: ScalarSet) -> ScalarSet { intersection(other.complement) }

    func intersection(_ other: ScalarSet) -> ScalarSet {
        var out: [ClosedRange<UInt32>] = []
        for a in ranges {
            for b in other.ranges where a.overlaps(b) {
                out.append(max(a.lowerBound, b.lowerBound)...min(a.upperBound, b.upperBound))
            }
        }
        return ScalarSet(out)
    }

    func contains(_ scalar: UInt32) -> Bool { ranges.contains { $0.contains(scalar) } }

    /// The single scalar when the set has exactly one.
    var single: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }

    /// Members among the (few) scalars of `candidates`, in order.
    func members(of candidates: ScalarSet) -> [UInt32] {
        intersection(candidates).ranges.flatMap { Array($0) }
    }

    // The regex escapes' classes (ECMA-262).
    static let digits = ScalarSet([0x30...0x39])
    static let word = ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let whitespace = ScalarSet([
        0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ])
    /// `.`: everything but line terminators.
    static let dot = ScalarSet([0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]).complement
    /// Characters JSON strings must escape: controls, `"` and `\`.
    static let mustEscape = ScalarSet([0x00...0x1F, 0x22...0x22, 0x5C...0x5C])
}
