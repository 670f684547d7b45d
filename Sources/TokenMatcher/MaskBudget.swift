// What warming a grammar's token masks will cost, known before any is computed.
//
// `prepareMasks` computes one cache entry per byte position outside loops and per loop count it
// warms, and each entry holds a bitset over the whole vocabulary (6 KB for 49,152 tokens) plus the
// matcher states its trie walk interns. A 60,000-value `enum` is 600,000 byte positions: 3.9 GB and
// 24 s of warming. The estimate below counts those entries from the grammar's layout alone (no
// walk), so a daemon can refuse a catalogue past its budget in milliseconds instead of finding out
// by running out of memory. It counts what the warm step visits, the same loops in the same way
// (at or above the entries warming computes: 776 vs 619 for the support demo, 23,040 vs 23,025 for
// a 2,000-value enum); bytes are the bitset plus `entryOverhead` per entry, which kept the estimate
// above what was measured for the grammars the budget is about (2,000-value enum: 157 MiB estimated,
// RSS grew 70–130 MiB; 60,000 values: 5.1 GiB estimated, 3.9 GB measured). Small grammars (the demo
// catalogues: 5 and 9 MiB estimated) cost a few MiB either way.

/// The cost of warming one grammar's masks for one vocabulary.
public struct MaskWarmEstimate: Sendable, Equatable {
    /// Cache entries warming would compute, counted per position and loop count (positions whose stack
    /// shapes coincide share one entry when warmed but are counted each, so this tends to be above).
    public let entries: Int
    /// Estimated bytes those entries take.
    public let bytes: Int

    /// Bytes per entry beyond its bitset, for the entry, its key, the contextual trie nodes and the
    /// matcher states interned while classifying (a margin: with it the estimate stays above measurements).
    public static let entryOverhead = 1024
}

extension ByteGrammar {
    /// The number of mask entries `prepareMasks(for:)` would compute and their estimated size, from
    /// the grammar's elements alone: every byte position, plus for every loop the iteration counts it
    /// warms times the alternatives of its body (each alternative starts its own stack shape).
    public func maskWarmEstimate(for vocabulary: TokenVocabulary) -> MaskWarmEstimate {
        let cap = vocabulary.maxTokenLength + 1
        var entries = 0
        for element in elements {
            switch element {
            case .range:
                entries += 1
            case .loop(let body, let min, let max):
                var counts = Swift.min(Swift.max(1, Int(min)), cap) + 1
                if max >= 0 && Int(max) - Int(min) < cap { counts = Swift.max(counts, Int(max)) }
                entries += counts * Swift.max(1, alternatives[Int(body)].count)
            default:
                continue
            }
        }
        let perEntry = (vocabulary.count + 63) / 64 * 8 + MaskWarmEstimate.entryOverhead
        let (bytes, overflow) = entries.multipliedReportingOverflow(by: perEntry)
        return MaskWarmEstimate(entries: entries, bytes: overflow ? Int.max : bytes)
    }
}
