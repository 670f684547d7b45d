// Incremental matching of bytes against a ByteGrammar.
//
// The parser state is a set of stacks (as in llama.cpp's grammar engine): each stack is a path of
// return positions, its top an element waiting for a byte. Stacks are hash-consed nodes in an arena,
// so equal stacks share one id, sets of stacks are sorted id arrays, and probing a token (which
// creates nodes) can be undone by truncating the arena.

/// Hash-consed stack nodes: node = (top position, loop count, rest of the stack). Node −1 is the
/// empty stack. The count is the completed iterations when the position is a loop element, else 0.
/// Nodes live as long as their matcher (one request), so state ids stay valid for the memo tables.
struct StackArena {
    private struct Key: Hashable { let position: Int32, count: Int32, parent: Int32 }
    private(set) var position: [Int32] = []
    private(set) var count: [Int32] = []
    private(set) var parent: [Int32] = []
    private var index: [Key: Int32] = [:]

    /// The node for `position` (with loop `count`) on top of `parent`, creating it if new.
    mutating func node(_ position: Int32, _ parent: Int32, count: Int32 = 0) -> Int32 {
        let key = Key(position: position, count: count, parent: parent)
        if let existing = index[key] { return existing }
        let id = Int32(self.position.count)
        self.position.append(position)
        self.count.append(count)
        self.parent.append(parent)
        index[key] = id
        return id
    }
}

/// A set of parser stacks: those waiting for a byte, and whether the input so far is a complete match.
public struct MatcherState: Hashable, Sendable {
    /// Stack nodes whose top is a byte range, sorted and unique.
    var ready: [Int32]
    /// True when some stack is empty: the bytes so far form a complete match.
    public var accepting: Bool
    /// True when some stack ran into the context sentinel (only in mask-cache simulations, where the
    /// part of the stack below a loop is cut off): what follows depends on the real stack.
    var context: Bool = false
    /// True when no continuation and no completion is possible.
    public var isDead: Bool { ready.isEmpty && !accepting && !context }
    /// True when some stack can take another byte.
    public var canContinue: Bool { !ready.isEmpty }
    /// True when the output is complete and nothing can follow it.
    public var isComplete: Bool { accepting && !canContinue }
}

/// Matches bytes against a compiled grammar, one step at a time, with rollback.
public final class GrammarMatcher {
    /// The grammar being matched.
    public let grammar: ByteGrammar
    var arena = StackArena()
    /// Interned states: id → state, state → id.
    private(set) var states: [MatcherState] = []
    private var stateIDs: [MatcherState: Int32] = [:]
    /// Per state id: bit 0 some stack can take another byte, bit 1 accepting, bit 2 reached the
    /// context sentinel (flat copies of the state's flags, so hot loops touch no arrays of arrays).
    private var flags: [UInt8] = []
    /// Memoised transitions, 256 per state: next state id, −1 when the byte is refused, −2 not yet known.
    private var transitions: [Int32] = []
    /// State id after each accepted chunk; the last is the current state.
    private(set) var history: [Int32] = []

    /// The request whose substrings the grammar's `x-from-input` spans must be (nil: the grammar alone decides).
    public let spans: RequestSpans?
    /// The grammar's spans that no substring of the request fits, as a bitset over span indices.
    var infeasible: [UInt64] = []
    /// True when `infeasible` has any bit set.
    var anyInfeasible = false
    /// True while classifying cut stacks for the grammar's shared mask cache: the request must not
    /// influence what is stored there, so entering a span counts as reaching the context.
    var simulating = false
    /// Completion costs of stacks inside a span (they depend on the request), by stack node.
    var spanCostMemo: [Int32: Int] = [:]

    /// A matcher at the start of `grammar`. With `spans` (built from the request's text), every
    /// `x-from-input` span only admits substrings of that text; without, spans are plain strings.
    public convenience init(grammar: ByteGrammar, spans: RequestSpans? = nil) {
        self.init(grammar: grammar, spans: spans, probing: false)
    }

    /// `probing`: a throwaway matcher that finds which spans the request can fill (see `infeasibleSpans`).
    init(grammar: ByteGrammar, spans: RequestSpans?, probing: Bool) {
        self.grammar = grammar
        self.spans = spans
        if !probing, grammar.spans.count > 0, let spans {
            infeasible = GrammarMatcher(grammar: grammar, spans: spans, probing: true).infeasibleSpans()
            anyInfeasible = infeasible.contains { $0 != 0 }
        }
        reset()
    }

    /// Back to the start of the grammar.
    public func reset() {
        arena = StackArena()
        states = []
        stateIDs = [:]
        flags = []
        transitions = []
        spanCostMemo = [:]
        var ready: [Int32] = []
        var accepting = false, context = false
        for start in grammar.alternatives[Int(grammar.root)] {
            expand(arena.node(start, -1), into: &ready, accepting: &accepting, context: &context)
        }
        if grammar.spans.count > 0 { dropDoomed(&ready, context: &context) }
        history = [intern(MatcherState(ready: Self.sortedUnique(ready), accepting: accepting))]
    }

    /// The current state.
    public var state: MatcherState { states[Int(currentID)] }

    /// The current state's id.
    var currentID: Int32 { history[history.count - 1] }

    /// The id of `state`, interning it if new.
    func intern(_ state: MatcherState) -> Int32 {
        if let id = stateIDs[state] { return id }
        let id = Int32(states.count)
        states.append(state)
        stateIDs[state] = id
        flags.append((state.canContinue ? 1 : 0) | (state.accepting ? 2 : 0) | (state.context ? 4 : 0))
        transitions.append(contentsOf: repeatElement(-2, count: 256))
        return id
    }

    /// The state after `byte` from state `id`, or −1 if the byte cannot follow (memoised).
    @inline(__always)
    func next(_ id: Int32, _ byte: UInt8) -> Int32 {
        let slot = Int(id) << 8 | Int(byte)
        let known = transitions[slot]
        if known != -2 { return known }
        let after = advance(states[Int(id)], byte)
        let result = after.isDead ? -1 : intern(after)
        transitions[slot] = result
        return result
    }

    /// True when state `id` can take another byte.
    @inline(__always)
    func canContinue(_ id: Int32) -> Bool { flags[Int(id)] & 1 != 0 }

    /// True when state `id` is a complete match.
    @inline(__always)
    func isAccepting(_ id: Int32) -> Bool { flags[Int(id)] & 2 != 0 }

    /// True when state `id` reached the context sentinel.
    @inline(__always)
    func reachedContext(_ id: Int32) -> Bool { flags[Int(id)] & 4 != 0 }

    /// The state id after `bytes` from state `id`, or −1.
    func run<C: Collection>(_ id: Int32, _ bytes: C) -> Int32 where C.Element == UInt8 {
        var s = id
        for b in bytes {
            s = next(s, b)
            if s < 0 { return -1 }
        }
        return s
    }

    /// True when the bytes accepted so far are a complete match.
    public var isAccepting: Bool { state.accepting }

    /// The state after `byte` from `state` (dead if the byte is not allowed).
    func advance(_ state: MatcherState, _ byte: UInt8) -> MatcherState {
        var ready: [Int32] = []
        var accepting = false, context = false
        let tracking = spans != nil && grammar.spans.count > 0
        for node in state.ready {
            let p = Int(arena.position[Int(node)])
            guard case .range(let lo, let hi) = grammar.elements[p], lo <= byte, byte <= hi else { continue }
            var parent = arena.parent[Int(node)]
            if tracking {
                // Inside a span the byte must also continue a substring of the request.
                guard let stepped = spanStep(below: parent, byte) else { continue }
                parent = stepped
            }
            expand(arena.node(Int32(p + 1), parent), into: &ready, accepting: &accepting, context: &context)
        }
        if grammar.spans.count > 0 { dropDoomed(&ready, context: &context) }
        return MatcherState(ready: Self.sortedUnique(ready), accepting: accepting, context: context)
    }

    /// Follows `.end`, rule references and loops from `node` until every stack waits on a byte range.
    /// Node −1 (empty stack) means a complete match; node −2 is the context sentinel of a cut stack.
    func expand(_ node: Int32, into ready: inout [Int32], accepting: inout Bool, context: inout Bool, depth: Int = 0) {
        guard node >= 0 else {
            if node == -1 { accepting = true } else { context = true }
            return
        }
        guard depth < 4096 else { return }   // only reachable through nullable cycles, which compile refuses
        let p = arena.position[Int(node)]
        switch grammar.elements[Int(p)] {
        case .range:
            ready.append(node)
        case .end:
            expand(arena.parent[Int(node)], into: &ready, accepting: &accepting, context: &context, depth: depth + 1)
        case .rule(let r):
            if grammar.spans.count > 0, grammar.spans.span(ofRule: r) >= 0,
               expandSpan(node, rule: r, into: &ready, accepting: &accepting, context: &context, depth: depth) {
                return
            }
            let returnNode = arena.node(p + 1, arena.parent[Int(node)])
            for start in grammar.alternatives[Int(r)] {
                expand(arena.node(start, returnNode), into: &ready, accepting: &accepting, context: &context, depth: depth + 1)
            }
        case .loop(let body, let min, let max):
            let done = arena.count[Int(node)]
            let below = arena.parent[Int(node)]
            if done >= min {
                expand(arena.node(p + 1, below), into: &ready, accepting: &accepting, context: &context, depth: depth + 1)
            }
            if max < 0 || done < max {
                // Unbounded loops count only up to `min`: beyond it every count behaves the same.
                let after = max < 0 ? Swift.min(done + 1, min) : done + 1
                let returnNode = arena.node(p, below, count: after)
                for start in grammar.alternatives[Int(body)] {
                    expand(arena.node(start, returnNode), into: &ready, accepting: &accepting, context: &context, depth: depth + 1)
                }
            }
        }
    }

    /// True when `bytes` can follow the current state (leaves the state unchanged).
    public func canAccept<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        run(currentID, bytes) >= 0
    }

    /// Consumes `bytes` if they can follow; returns false (state unchanged) if they cannot.
    @discardableResult
    public func accept<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        let s = run(currentID, bytes)
        guard s >= 0 else { return false }
        history.append(s)
        return true
    }

    /// The fewest bytes that complete the output from `state` (0 when it is already complete;
    /// `ByteGrammar.unreachable` when it cannot complete).
    public func completionCost(_ state: MatcherState) -> Int {
        if state.accepting { return 0 }
        var best = ByteGrammar.unreachable
        let tracking = spans != nil && grammar.spans.count > 0
        for node in state.ready {
            // A stack inside a span may have no way out of it that the request allows: its cost is the search's.
            best = min(best, tracking && marker(of: node) >= 0 ? spanCost(node) : stackCost(node))
        }
        return best
    }

    /// The completion cost after `bytes` from the current state, or nil if they cannot follow.
    public func completionCost<C: Collection>(after bytes: C) -> Int? where C.Element == UInt8 {
        let s = run(currentID, bytes)
        return s >= 0 ? completionCost(states[Int(s)]) : nil
    }

    /// Σ over the stack's frames of the bytes left in each frame's alternative (a loop frame still
    /// owes its missing iterations).
    func stackCost(_ node: Int32) -> Int {
        var total = 0
        var n = node
        while n >= 0 {
            let p = Int(arena.position[Int(n)])
            var frame = grammar.restCost[p]
            if case .loop(let body, let min, _) = grammar.elements[p] {
                let owed = Swift.max(0, Int(min) - Int(arena.count[Int(n)]))
                frame = ByteGrammar.add(grammar.restCost[p + 1], ByteGrammar.times(owed, grammar.ruleCost[Int(body)]))
            }
            total = ByteGrammar.add(total, frame)
            n = arena.parent[Int(n)]
        }
        return total
    }

    /// Undoes the last `count` successful `accept` calls.
    public func rollback(_ count: Int) {
        let keep = max(1, history.count - count)
        history.removeSubrange(keep...)
    }

    /// The bytes the grammar forces next: while every stack waits on the same single byte and the
    /// input is not yet complete, that byte is the only way on. At most `limit` bytes.
    public func forcedBytes(limit: Int = 256) -> [UInt8] {
        var out: [UInt8] = []
        var s = currentID
        while out.count < limit, s >= 0, !states[Int(s)].accepting, let byte = singleByte(states[Int(s)]) {
            // The grammar's only byte may still be one the request refuses (inside a span).
            s = next(s, byte)
            if s >= 0 { out.append(byte) }
        }
        return out
    }

    /// The one byte every ready stack accepts, if they all accept exactly the same single byte.
    private func singleByte(_ s: MatcherState) -> UInt8? {
        var only: UInt8? = nil
        for node in s.ready {
            guard case .range(let lo, let hi) = grammar.elements[Int(arena.position[Int(node)])], lo == hi else { return nil }
            if let o = only, o != lo { return nil }
            only = lo
        }
        return only
    }

    static func sortedUnique(_ nodes: [Int32]) -> [Int32] {
        if nodes.count < 2 { return nodes }
        var sorted = nodes
        sorted.sort()
        var out: [Int32] = [sorted[0]]
        for n in sorted.dropFirst() where n != out[out.count - 1] { out.append(n) }
        return out
    }
}
