// The substrings of one request, as an automaton: what an `x-from-input` string may contain.
//
// A suffix automaton over the request's UTF-8 bytes accepts exactly its substrings, has at most
// 2n states and is built in one pass (microseconds for a request). The grammar writes a string's
// text JSON-escaped, so the matcher feeds it through a small escape decoder first: raw bytes go to
// the automaton as they are, `\n` goes as a newline byte, `\u001f` as 0x1F. The automaton therefore
// runs over the decoded text (the validator's view too), and a span can never start in the middle
// of an escape sequence. Escapes that decode to other characters than controls, quote, backslash
// and slash (`\u0041` for `A`) are refused: the grammar's canonical form writes those raw.
//
// Spans run from word boundary to word boundary (`SpanBoundaries` has the rule and the reason). The
// automaton is built over the request with a marker byte 0xFF — never part of UTF-8 — written before
// every offset where a span may start, so a span's first step is the marker and the start rule costs
// nothing at run time: from the empty span the only way in is through a marker. Inside a span the
// markers are stepped over (a byte the text has directly, else the marker then the byte). Which
// states may end a span is worked out once per state from the offsets it ends at (the suffix-link
// tree carries them up), and the matcher asks before it lets a span's closing quote through.
// Whether a marker precedes a byte depends only on the scalar before and the scalar the byte starts,
// so for ASCII both steps are exact; after a non-ASCII lead byte that starts a letter in one place
// and a symbol in another the automaton keeps one reading, so it may refuse a rare valid span, never
// admit an invalid one (the validator, which checks the same rule directly, has the last word).

import Grammar

/// The request's text as a suffix automaton, with the escape decoder the matcher runs in front of it.
/// State values are packed as `automaton state << 3 | decoder state`; `start` is the empty span.
public struct RequestSpans: Sendable {
    /// The request's text, as given.
    public let text: String
    /// Per automaton state: first edge in the edge pool, −1 when none.
    private var firstEdge: [Int32] = []
    /// Per automaton state: the length of the longest substring it stands for, and its suffix link.
    private var length: [Int32] = []
    private var link: [Int32] = []
    /// Per automaton state: some occurrence of its substrings ends where a span may end.
    private var endsSpan: [Bool] = []
    /// Edge pool: byte, target state and the next edge of the same state (−1 ends the list).
    private var edgeByte: [UInt8] = []
    private var edgeTarget: [Int32] = []
    private var edgeNext: [Int32] = []

    /// The packed state of an empty span (automaton root, no escape pending).
    public static let start: Int32 = 0
    /// Written before every offset where a span may start (0xFF is no UTF-8 byte).
    static let marker: UInt8 = 0xFF

    /// Builds the automaton of `text`'s word-bounded substrings.
    public init(_ text: String) {
        self.text = text
        let boundaries = SpanBoundaries(text)
        let bytes = boundaries.bytes
        let capacity = 4 * bytes.count + 1
        firstEdge.reserveCapacity(capacity)
        length.reserveCapacity(capacity)
        link.reserveCapacity(capacity)
        endsSpan.reserveCapacity(capacity)
        edgeByte.reserveCapacity(2 * capacity)
        edgeTarget.reserveCapacity(2 * capacity)
        edgeNext.reserveCapacity(2 * capacity)
        var last = addState(length: 0, link: -1)
        for (i, byte) in bytes.enumerated() {
            if boundaries.startAllowed[i] { last = extend(last, Self.marker) }
            last = extend(last, byte)
            endsSpan[Int(last)] = boundaries.endAllowed[i + 1]
        }
        // A state's substrings end at the union of its suffix-link children's offsets (and its own):
        // longest states first (a link is always shorter), each passes its answer to its link. Lengths
        // are at most the marked text's, so a counting sort orders them in linear time.
        var byLength = [Int32](repeating: 0, count: Int(length[Int(last)]) + 2)
        for l in length { byLength[Int(l) + 1] += 1 }
        for i in 1..<byLength.count { byLength[i] += byLength[i - 1] }
        var order = [Int32](repeating: 0, count: length.count)
        for state in length.indices {
            order[Int(byLength[Int(length[state])])] = Int32(state)
            byLength[Int(length[state])] += 1
        }
        for state in order.reversed() where link[Int(state)] >= 0 && endsSpan[Int(state)] {
            endsSpan[Int(link[Int(state)])] = true
        }
        endsSpan[0] = true   // the empty span (a schema's minLength decides whether it may be empty)
    }

    /// Number of automaton states (at most twice the text's length in bytes plus its start offsets, plus one).
    public var stateCount: Int { length.count }

    /// True when `bytes` are a span of the text, word boundary to word boundary (the validator's
    /// question, asked of the automaton).
    public func contains<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var state: Int32 = 0
        for byte in bytes {
            guard let next = advance(state, byte) else { return false }
            state = next
        }
        return endsSpan[Int(state)]
    }

    // MARK: The matcher's steps

    /// The packed state after the grammar writes `byte` inside a span in packed state `packed`, or nil
    /// when no substring of the request continues that way.
    func step(_ packed: Int32, _ byte: UInt8) -> Int32? {
        let state = packed >> 3
        switch packed & 7 {
        case 0:
            // A backslash only when some escape after it can continue the span.
            if byte == 0x5C { return hasTransition(state, in: Self.escapable) ? state << 3 | 1 : nil }
            return advance(state, byte).map { $0 << 3 }
        case 1:
            if byte == UInt8(ascii: "u") { return hasTransition(state, in: 0x00...0x1F) ? state << 3 | 2 : nil }
            guard let decoded = Self.shortEscape(byte) else { return nil }
            return advance(state, decoded).map { $0 << 3 }
        case 2, 3:
            return byte == UInt8(ascii: "0") ? state << 3 | ((packed & 7) + 1) : nil
        case 4:
            if byte == UInt8(ascii: "0") { return hasTransition(state, in: 0x00...0x0F) ? state << 3 | 5 : nil }
            if byte == UInt8(ascii: "1") { return hasTransition(state, in: 0x10...0x1F) ? state << 3 | 6 : nil }
            return nil
        case 5, 6:
            guard let digit = Self.hexValue(byte) else { return nil }
            let decoded = UInt8((packed & 7 == 6 ? 16 : 0) + digit)
            return advance(state, decoded).map { $0 << 3 }
        default:
            return nil
        }
    }

    /// True when a span in packed state `packed` may end here (no escape pending, at a word boundary).
    func mayEnd(_ packed: Int32) -> Bool {
        packed & 7 == 0 && endsSpan[Int(packed >> 3)]
    }

    /// Adds to `set` every byte that may come next in a span in packed state `packed` (a superset: the
    /// request's next bytes as written raw, a backslash, and inside an escape any printable ASCII).
    func addFollowers(_ packed: Int32, into set: inout ByteSet) {
        guard packed & 7 == 0 else {
            set.insert(0x20...0x7E)
            return
        }
        forEachStep(from: packed >> 3) { byte, _ in set.insert(byte...byte) }
        set.insert(0x5C...0x5C)
    }

    /// Bytes a backslash escape can stand for here: `\"`, `\\`, `\/`, and the controls (`\n`, `\u0001`, …).
    private static let escapable: [ClosedRange<UInt8>] = [0x00...0x1F, 0x22...0x22, 0x2F...0x2F, 0x5C...0x5C]

    private static func shortEscape(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""): return 0x22
        case UInt8(ascii: "\\"): return 0x5C
        case UInt8(ascii: "/"): return 0x2F
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    // MARK: The automaton

    /// The state after text byte `byte` from `state`: from the empty span only through a start marker;
    /// inside a span directly when the text goes on with `byte`, else over a marker.
    private func advance(_ state: Int32, _ byte: UInt8) -> Int32? {
        if state != 0, let direct = transition(state, byte) { return direct }
        guard let afterMarker = transition(state, Self.marker) else { return nil }
        return transition(afterMarker, byte)
    }

    /// Calls `body` with each text byte `advance` takes from `state`, and where it goes.
    private func forEachStep(from state: Int32, _ body: (UInt8, Int32) -> Void) {
        var direct = ByteSet()
        if state != 0 {
            var edge = firstEdge[Int(state)]
            while edge >= 0 {
                let byte = edgeByte[Int(edge)]
                if byte != Self.marker { direct.insert(byte...byte); body(byte, edgeTarget[Int(edge)]) }
                edge = edgeNext[Int(edge)]
            }
        }
        guard let afterMarker = transition(state, Self.marker) else { return }
        var edge = firstEdge[Int(afterMarker)]
        while edge >= 0 {
            let byte = edgeByte[Int(edge)]
            if !direct.contains(byte) { body(byte, edgeTarget[Int(edge)]) }
            edge = edgeNext[Int(edge)]
        }
    }

    private func transition(_ state: Int32, _ byte: UInt8) -> Int32? {
        var edge = firstEdge[Int(state)]
        while edge >= 0 {
            if edgeByte[Int(edge)] == byte { return edgeTarget[Int(edge)] }
            edge = edgeNext[Int(edge)]
        }
        return nil
    }

    private func hasTransition(_ state: Int32, in range: ClosedRange<UInt8>) -> Bool {
        hasTransition(state, in: [range])
    }

    private func hasTransition(_ state: Int32, in ranges: [ClosedRange<UInt8>]) -> Bool {
        var found = false
        forEachStep(from: state) { byte, _ in if !found, ranges.contains(where: { $0.contains(byte) }) { found = true } }
        return found
    }

    private mutating func addState(length: Int32, link: Int32) -> Int32 {
        self.length.append(length)
        self.link.append(link)
        endsSpan.append(false)
        firstEdge.append(-1)
        return Int32(self.length.count - 1)
    }

    /// Sets (adding or redirecting) the edge of `state` on `byte`.
    private mutating func setTransition(_ state: Int32, _ byte: UInt8, _ target: Int32) {
        var edge = firstEdge[Int(state)]
        while edge >= 0 {
            if edgeByte[Int(edge)] == byte { edgeTarget[Int(edge)] = target; return }
            edge = edgeNext[Int(edge)]
        }
        edgeByte.append(byte)
        edgeTarget.append(target)
        edgeNext.append(firstEdge[Int(state)])
        firstEdge[Int(state)] = Int32(edgeByte.count - 1)
    }

    /// The standard online construction: appends `byte` to the text whose whole is state `last`.
    private mutating func extend(_ last: Int32, _ byte: UInt8) -> Int32 {
        let current = addState(length: length[Int(last)] + 1, link: 0)
        var p = last
        while p >= 0, transition(p, byte) == nil {
            setTransition(p, byte, current)
            p = link[Int(p)]
        }
        guard p >= 0, let q = transition(p, byte) else { return current }
        if length[Int(p)] + 1 == length[Int(q)] {
            link[Int(current)] = q
            return current
        }
        let clone = addState(length: length[Int(p)] + 1, link: link[Int(q)])
        var edge = firstEdge[Int(q)]
        while edge >= 0 {
            setTransition(clone, edgeByte[Int(edge)], edgeTarget[Int(edge)])
            edge = edgeNext[Int(edge)]
        }
        while p >= 0, transition(p, byte) == q {
            setTransition(p, byte, clone)
            p = link[Int(p)]
        }
        link[Int(q)] = clone
        link[Int(current)] = clone
        return current
    }
}

/// A set of bytes as a 256-bit map.
struct ByteSet {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Adds every byte of `range`.
    mutating func insert(_ range: ClosedRange<UInt8>) {
        for byte in range {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: words.0 |= bit
            case 1: words.1 |= bit
            case 2: words.2 |= bit
            default: words.3 |= bit
            }
        }
    }

    /// True when `byte` is in the set.
    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }
}
