// A set of token ids as a bitset: one bit per token, 6 KB for a 49,152-token vocabulary.

/// The tokens allowed at one step.
public struct TokenMask: Sendable, Equatable {
    /// 64 tokens a word; bit `id % 64` of word `id / 64`.
    public private(set) var words: [UInt64]
    /// Number of token ids the mask covers.
    public let count: Int

    /// An empty mask over `count` token ids.
    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// True when `id` is allowed.
    @inline(__always)
    public subscript(id: Int) -> Bool { words[id >> 6] & (1 << UInt64(id & 63)) != 0 }

    /// Allows `id`.
    @inline(__always)
    public mutating func insert(_ id: Int) { words[id >> 6] |= 1 << UInt64(id & 63) }

    /// Allows every id `other` allows.
    @inline(__always)
    public mutating func formUnion(_ other: TokenMask) {
        words.withUnsafeMutableBufferPointer { mine in
            other.words.withUnsafeBufferPointer { theirs in
                for i in 0..<min(mine.count, theirs.count) { mine[i] |= theirs[i] }
            }
        }
    }

    /// Allows nothing.
    public mutating func removeAll() {
        words.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Number of allowed ids.
    public var allowedCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The allowed ids in increasing order.
    public var allowedIDs: [Int] {
        var out: [Int] = []
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                out.append(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return out
    }
}
