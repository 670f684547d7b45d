// The generator's only source of randomness: SplitMix64, seeded by the caller. Every draw goes
// through `next()` and the helpers below use their own arithmetic (not the standard library's
// `random(in:)`, whose algorithm may change between Swift versions), so one seed gives the same
// rows on every machine and toolchain. Nothing in the generator iterates a dictionary or set to
// decide output; collections that feed draws are arrays in a defined order.

/// SplitMix64 with the few draws the generator needs.
public struct SynthRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose whole output follows from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (0 when `bound` ≤ 1).
    public mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        // Multiply-high: unbiased enough for data generation and free of modulo's low-bit patterns.
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A value in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// A double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// One element of `items` (nil when empty).
    public mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[below(items.count)]
    }

    /// `items` in a random order (Fisher–Yates).
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var out = items
        guard out.count > 1 else { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, below(i + 1)) }
        return out
    }

    /// A seed derived from this generator, for an independent stream (e.g. one per pool).
    public mutating func fork() -> SynthRandom { SynthRandom(seed: next()) }
}
