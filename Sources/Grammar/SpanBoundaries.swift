// Where an `x-from-input` value may begin and end in a request: at word boundaries, never on
// whitespace. One rule for both enforcers — the token matcher's request automaton and the
// validator's re-check — so they cannot disagree about what "a span of the request" is.
//
// Why words and not any substring: a small model that has learnt "copy the room name" sometimes
// copies one character too many or too few ("n the Nursery", " Emma's room", "ORD-9876" out of
// "ORD-98765"). Every such slip starts or ends inside a word or on a space, and no value a user
// means does, so the grammar can refuse them outright and leave the model the right span.
//
// A *word character* is a letter, a digit (any script: Unicode's alphabetic and numeric scalars) or
// an underscore. Apostrophes are not ("Emma" is a span of "Emma's"): joining "Emma's" would make a
// character's class depend on both neighbours, which the automaton could not follow exactly. A span may start at a
// scalar that is not whitespace and either is no word character or does not follow one; it may end
// after a scalar that is not whitespace and either is no word character or is not followed by one.
// So of "the (garage) and Emma's room, kitchen: ORD-98765 #12", the values "kitchen", "Emma's room",
// "room,", "(garage)", "ORD-98765" and "#12" are spans; "itchen", "kitche", " kitchen", "room "
// and "ORD-9876" are not.

/// The word-boundary offsets of one request's UTF-8 bytes.
public struct SpanBoundaries: Sendable {
    /// The request's UTF-8 bytes.
    public let bytes: [UInt8]
    /// `startAllowed[i]`: a span may begin at byte offset `i` (count: bytes + 1; false inside a scalar).
    public let startAllowed: [Bool]
    /// `endAllowed[j]`: a span may end just before byte offset `j` (count: bytes + 1; false inside a scalar).
    public let endAllowed: [Bool]

    /// The boundaries of `text`.
    public init(_ text: String) {
        let scalars = Array(text.unicodeScalars)
        var offsets: [Int] = []   // byte offset of each scalar, then the total
        offsets.reserveCapacity(scalars.count + 1)
        var offset = 0
        for scalar in scalars {
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
        let word = scalars.map(Self.isWordScalar)
        var start = [Bool](repeating: false, count: offset + 1)
        var end = [Bool](repeating: false, count: offset + 1)
        for k in scalars.indices where !scalars[k].properties.isWhitespace {
            if !word[k] || k == 0 || !word[k - 1] { start[offsets[k]] = true }
            if !word[k] || k + 1 == scalars.count || !word[k + 1] { end[offsets[k + 1]] = true }
        }
        bytes = Array(text.utf8)
        startAllowed = start
        endAllowed = end
    }

    /// Whether `needle` (UTF-8) occurs in the request starting and ending at allowed offsets. The empty
    /// value is always admitted (a schema's `minLength` says whether it may be empty).
    public func admits<C: Collection>(_ needle: C) -> Bool where C.Element == UInt8 {
        let n = Array(needle)
        if n.isEmpty { return true }
        guard n.count <= bytes.count else { return false }
        for i in 0...(bytes.count - n.count) where startAllowed[i] && endAllowed[i + n.count] && bytes[i] == n[0] {
            if bytes[i..<(i + n.count)].elementsEqual(n) { return true }
        }
        return false
    }

    /// Letters and digits of any script, and the underscore.
    public static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }
}
