// The substrings of one request, as an automaton: what an `x-from-input` string may contain.
//
// A suffix automaton over the request's UTF-8 bytes accepts exactly its substrings, has at most
// 2n states and is built in one pass (microseconds for a request). The grammar writes a string's
// text JSON-escaped, so the matcher feeds it through a small escape decoder first: raw bytes go to
// the automaton as they are, `\n` goes as a newline byte, `\u001f` as 0x1F. The automaton therefore
// runs over the decoded text (the validator's view too), and a span can never start in the middle
// of an escape sequence. Escapes that decode to other characters than controls, quote, backslash
// and slash (`\u0041` for `A`) are refused: the grammar's canonical form writes those raw.

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
    /// Edge pool: byte, target state and the next edge of the same state (−1 ends the list).
    private var edgeByte: [UInt8] = []
    private var edgeTarget: [Int32] = []
    private var edgeNext: [Int32] = []

    /// The packed state of an empty span (automaton root, no escape pending).
    public static let start: Int32 = 0

    /// Builds the automaton of `text`'s substrings.
    public init(_ text: String) {
        self.text = text
        let bytes = Array(text.utf8)
        firstEdge.reserveCapacity(2 * bytes.count + 1)
        length.reserveCapacity(2 * bytes.count + 1)
        link.reserveCapacity(2 * bytes.count + 1)
        edgeByte.reserveCapacity(3 * bytes.count)
        edgeTarget.reserveCapacity(3 * bytes.count)
        edgeNext.reserveCapacity(3 * bytes.count)
        var last = addState(length: 0, link: -1)
        for byte in bytes { last = extend(last, byte) }
    }

    /// Number of automaton states (at most twice the text's length in bytes, plus one).
    public var stateCount: Int { length.count }

    /// True when `bytes` occur in the text (the validator's question, asked of the automaton).
    public func contains<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var state: Int32 = 0
        for byte in bytes {
            guard let next = transition(state, byte) else { return false }
            state = next
        }
        return true
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
            return transition(state, byte).map { $0 << 3 }
        case 1:
            if byte == UInt8(ascii: "u") { return hasTransition(state, in: 0x00...0x1F) ? state << 3 | 2 : nil }
            guard let decoded = Self.shortEscape(byte) else { return nil }
            return transition(state, decoded).map { $0 << 3 }
        case 2, 3:
            return byte == UInt8(ascii: "0") ? state << 3 | ((packed & 7) + 1) : nil
        case 4:
            if byte == UInt8(ascii: "0") { return hasTransition(state, in: 0x00...0x0F) ? state << 3 | 5 : nil }
            if byte == UInt8(ascii: "1") { return hasTransition(state, in: 0x10...0x1F) ? state << 3 | 6 : nil }
            return nil
        case 5, 6:
            guard let digit = Self.hexValue(byte) else { return nil }
            let decoded = UInt8((packed & 7 == 6 ? 16 : 0) + digit)
            return transition(state, decoded).map { $0 << 3 }
        default:
            return nil
        }
    }

    /// Adds to `set` every byte that may come next in a span in packed state `packed` (a superset: the
    /// request's next bytes as written raw, a backslash, and inside an escape any printable ASCII).
    func addFollowers(_ packed: Int32, into set: inout ByteSet) {
        guard packed & 7 == 0 else {
            set.insert(0x20...0x7E)
            return
        }
        var edge = firstEdge[Int(packed >> 3)]
        while edge >= 0 {
            set.insert(edgeByte[Int(edge)]...edgeByte[Int(edge)])
            edge = edgeNext[Int(edge)]
        }
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
        var edge = firstEdge[Int(state)]
        while edge >= 0 {
            let byte = edgeByte[Int(edge)]
            if ranges.contains(where: { $0.contains(byte) }) { return true }
            edge = edgeNext[Int(edge)]
        }
        return false
    }

    private mutating func addState(length: Int32, link: Int32) -> Int32 {
        self.length.append(length)
        self.link.append(link)
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
