// Unicode scalar ranges → sequences of UTF-8 byte ranges, so the matcher works on bytes only.
//
// A scalar range like U+0080...U+07FF becomes the byte sequence [C2-DF][80-BF]; a range that crosses an
// encoding-length or continuation-byte boundary is split first, so each piece is a product of byte ranges.

/// One piece of a scalar range: a UTF-8 byte sequence whose i-th byte lies in `bytes[i]`.
struct UTF8Sequence: Equatable {
    var bytes: [ClosedRange<UInt8>]
}

enum UTF8Ranges {
    /// The largest scalar encoded with 1, 2, 3 and 4 bytes.
    private static let lengthLimits: [UInt32] = [0x7F, 0x7FF, 0xFFFF, 0x10FFFF]

    /// Byte sequences that together match exactly the scalars in `ranges` (surrogates excluded).
    static func sequences(for ranges: [ClosedRange<UInt32>]) -> [UTF8Sequence] {
        var out: [UTF8Sequence] = []
        for range in normalized(ranges) { split(range.lowerBound, range.upperBound, into: &out) }
        return out
    }

    /// The complement of `ranges` within all scalars (surrogates excluded), sorted and merged.
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in normalized(ranges) {
            if r.lowerBound > next { result.append(next...(r.lowerBound - 1)) }
            next = max(next, r.upperBound &+ 1)
        }
        if next <= 0x10FFFF { result.append(next...0x10FFFF) }
        return normalized(result)
    }

    /// Sorted, merged, clamped to 0...0x10FFFF, with the surrogate block removed.
    static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var pieces: [ClosedRange<UInt32>] = []
        for r in ranges where r.lowerBound <= 0x10FFFF {
            let hi = min(r.upperBound, 0x10FFFF)
            if r.lowerBound < 0xD800 && hi > 0xDFFF {
                pieces.append(r.lowerBound...0xD7FF)
                pieces.append(0xE000...hi)
            } else if r.lowerBound >= 0xD800 && hi <= 0xDFFF {
                continue
            } else if r.lowerBound < 0xD800 && hi >= 0xD800 {
                pieces.append(r.lowerBound...0xD7FF)
            } else if r.lowerBound <= 0xDFFF && hi > 0xDFFF {
                pieces.append(0xE000...hi)
            } else {
                pieces.append(r.lowerBound...hi)
            }
        }
        pieces.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for p in pieces {
            if let last = merged.last, p.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, p.upperBound)
            } else {
                merged.append(p)
            }
        }
        return merged
    }

    /// Splits [lo, hi] until each piece encodes as a product of byte ranges.
    private static func split(_ lo: UInt32, _ hi: UInt32, into out: inout [UTF8Sequence]) {
        // 1. Split at encoded-length boundaries.
        for limit in lengthLimits.dropLast() where lo <= limit && hi > limit {
            split(lo, limit, into: &out)
            split(limit + 1, hi, into: &out)
            return
        }
        // 2. Within one length, split where the trailing continuation bytes are not full 80...BF runs.
        let length = encodedLength(lo)
        if length > 1 {
            for k in 1..<length {
                let mask: UInt32 = (1 << (6 * UInt32(k))) - 1
                if lo & ~mask != hi & ~mask {
                    if lo & mask != 0 {
                        split(lo, lo | mask, into: &out)
                        split((lo | mask) + 1, hi, into: &out)
                        return
                    }
                    if hi & mask != mask {
                        split(lo, (hi & ~mask) - 1, into: &out)
                        split(hi & ~mask, hi, into: &out)
                        return
                    }
                }
            }
        }
        let a = encode(lo), b = encode(hi)
        out.append(UTF8Sequence(bytes: zip(a, b).map { $0...$1 }))
    }

    static func encodedLength(_ scalar: UInt32) -> Int {
        scalar <= 0x7F ? 1 : scalar <= 0x7FF ? 2 : scalar <= 0xFFFF ? 3 : 4
    }

    static func encode(_ scalar: UInt32) -> [UInt8] {
        switch encodedLength(scalar) {
        case 1: return [UInt8(scalar)]
        case 2: return [UInt8(0xC0 | (scalar >> 6)), UInt8(0x80 | (scalar & 0x3F))]
        case 3: return [UInt8(0xE0 | (scalar >> 12)), UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F))]
        default:
            return [UInt8(0xF0 | (scalar >> 18)), UInt8(0x80 | ((scalar >> 12) & 0x3F)),
                    UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F))]
        }
    }
}
