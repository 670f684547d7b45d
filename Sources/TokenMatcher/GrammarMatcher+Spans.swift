// Request spans in the matcher: how a stack inside an `x-from-input` string tracks the request.
//
// Entering a span's rule pushes a marker frame (the rule's own position, with the span's packed
// `RequestSpans` state + 1 as its count) instead of the usual return frame; the span's body runs
// above it. Every byte consumed while a marker is on the stack steps the marker's state, and a
// byte the request does not continue kills that stack. When the body ends, the marker pops and
// parsing goes on after the rule — if the request allows a span to end there (a word boundary).
// The request state thus lives in the stack nodes themselves, so states, memoised transitions and
// rollback all work unchanged, per request (the arena is the matcher's own).
//
// Two more things keep decoding from walking into a dead end:
// - spans that no substring of the request fits are found once per request (a small search per
//   span), and any stack that must still pass through one is dropped (`SpanLayout`);
// - inside a span, the cost to complete is found by a breadth-first search over the bytes the
//   request allows, so the decoder's budget check refuses a token after which the span cannot end.

extension GrammarMatcher {
    /// The marker frame of the span `node` is inside, or −1 when it is outside every span.
    func marker(of node: Int32) -> Int32 {
        var n = node
        while n >= 0 {
            let p = Int(arena.position[Int(n)])
            if case .rule(let r) = grammar.elements[p], arena.count[Int(n)] > 0, grammar.spans.span(ofRule: r) >= 0 { return n }
            n = arena.parent[Int(n)]
        }
        return -1
    }

    /// The stack below a consumed byte after the byte (the marker's request state stepped, the frames
    /// above it rebuilt), the same stack when it is in no span, or nil when the request refuses the byte.
    func spanStep(below parent: Int32, _ byte: UInt8) -> Int32? {
        guard let spans else { return parent }
        var path: [Int32] = []
        var n = parent
        while n >= 0 {
            let p = Int(arena.position[Int(n)])
            if case .rule(let r) = grammar.elements[p], arena.count[Int(n)] > 0, grammar.spans.span(ofRule: r) >= 0 {
                guard let stepped = spans.step(arena.count[Int(n)] - 1, byte) else { return nil }
                var rebuilt = arena.node(Int32(p), arena.parent[Int(n)], count: stepped + 1)
                for frame in path.reversed() {
                    rebuilt = arena.node(arena.position[Int(frame)], rebuilt, count: arena.count[Int(frame)])
                }
                return rebuilt
            }
            path.append(n)
            n = arena.parent[Int(n)]
        }
        return parent
    }

    /// Expands a reference to span rule `r` at `node`: entering pushes a marker (or, for the mask
    /// cache, stops at the context), returning goes on after the rule. False when the reference is an
    /// ordinary one (no request given).
    func expandSpan(_ node: Int32, rule r: Int32, into ready: inout [Int32], accepting: inout Bool, context: inout Bool,
                    depth: Int) -> Bool {
        if simulating {
            // What a span admits depends on the request: cached masks must leave it to the real stack.
            context = true
            return true
        }
        guard spans != nil else { return false }
        let p = arena.position[Int(node)]
        let below = arena.parent[Int(node)]
        if arena.count[Int(node)] > 0 {
            // The body is done: the span ends here only at a word boundary of the request.
            if let spans, spans.mayEnd(arena.count[Int(node)] - 1) {
                expand(arena.node(p + 1, below), into: &ready, accepting: &accepting, context: &context, depth: depth + 1)
            }
            return true
        }
        let span = Int(grammar.spans.span(ofRule: r))
        if !infeasible.isEmpty, infeasible[span / 64] & (1 << UInt64(span % 64)) != 0 { return true }
        let marker = arena.node(p, below, count: RequestSpans.start + 1)
        for start in grammar.alternatives[Int(r)] {
            expand(arena.node(start, marker), into: &ready, accepting: &accepting, context: &context, depth: depth + 1)
        }
        return true
    }

    /// Removes stacks that must still enter a span the request cannot fill. While classifying for the
    /// mask cache, where the request is unknown, every stack that must enter any span is left to the
    /// context instead.
    func dropDoomed(_ ready: inout [Int32], context: inout Bool) {
        guard simulating || anyInfeasible else { return }
        let layout = grammar.spans
        var kept: [Int32] = []
        kept.reserveCapacity(ready.count)
        var set = [UInt64](repeating: 0, count: layout.words)
        for node in ready {
            for k in 0..<layout.words { set[k] = 0 }
            var n = node
            while n >= 0 {
                let p = Int(arena.position[Int(n)])
                var from = p
                switch grammar.elements[p] {
                case .loop(let body, let min, _):
                    from = p + 1
                    if arena.count[Int(n)] < min { unionRule(body, into: &set) }
                case .rule(let r) where arena.count[Int(n)] > 0 && layout.span(ofRule: r) >= 0:
                    from = p + 1
                default:
                    break
                }
                for k in 0..<layout.words { set[k] |= layout.positionMust[from * layout.words + k] }
                n = arena.parent[Int(n)]
            }
            if simulating {
                if set.contains(where: { $0 != 0 }) { context = true } else { kept.append(node) }
            } else if !zip(set, infeasible).contains(where: { $0 & $1 != 0 }) {
                kept.append(node)
            }
        }
        ready = kept
    }

    private func unionRule(_ r: Int32, into set: inout [UInt64]) {
        let layout = grammar.spans
        for k in 0..<layout.words { set[k] |= layout.ruleMust[Int(r) * layout.words + k] }
        let span = layout.span(ofRule: r)
        if span >= 0 { set[Int(span) / 64] |= 1 << UInt64(span % 64) }
    }

    /// Fewest bytes that complete the output from a stack inside a span, going only where the request
    /// allows: a breadth-first search to the first layer where some stack has left the span.
    func spanCost(_ node: Int32) -> Int {
        if let known = spanCostMemo[node] { return known }
        let cost = exitSearch(from: intern(MatcherState(ready: [node], accepting: false)), layers: Self.spanSearchLayers)
            ?? ByteGrammar.unreachable
        spanCostMemo[node] = cost
        return cost
    }

    /// How many bytes deep `spanCost` looks (beyond, it assumes the span can end: the grammar's bound on
    /// string lengths keeps real spans shorter). Also bounds the states one search may visit.
    static let spanSearchLayers = 300
    static let spanSearchStates = 20_000

    /// The fewest bytes to complete from state `start` via the nearest layer where some stack is outside
    /// every span (plus that stack's own cost), or nil when no such layer is reachable.
    func exitSearch(from start: Int32, layers: Int) -> Int? {
        var frontier: [Int32] = [start]
        var seen: Set<Int32> = [start]
        var distance = 0
        while !frontier.isEmpty {
            var best = ByteGrammar.unreachable
            for s in frontier {
                let state = states[Int(s)]
                if state.accepting { best = min(best, distance) }
                for n in state.ready where marker(of: n) < 0 { best = min(best, ByteGrammar.add(distance, stackCost(n))) }
            }
            if best < ByteGrammar.unreachable { return best }
            if distance >= layers || seen.count > Self.spanSearchStates { return distance }
            var nextLayer: [Int32] = []
            for s in frontier where canContinue(s) {
                let candidates = candidateBytes(s)
                for byte in 0...255 where candidates.contains(UInt8(byte)) {
                    let t = next(s, UInt8(byte))
                    if t >= 0, seen.insert(t).inserted { nextLayer.append(t) }
                }
            }
            frontier = nextLayer
            distance += 1
        }
        return nil
    }

    /// A superset of the bytes that can follow state `s`: each stack's next byte range, and inside a span
    /// only the bytes the request continues with. Lets searches and mask walks skip the other bytes
    /// without stepping the matcher on each.
    func candidateBytes(_ s: Int32) -> ByteSet {
        var set = ByteSet()
        for node in states[Int(s)].ready {
            guard case .range(let lo, let hi) = grammar.elements[Int(arena.position[Int(node)])] else { continue }
            let m = spans == nil ? -1 : marker(of: node)
            guard m >= 0, let spans else { set.insert(lo...hi); continue }
            var followers = ByteSet()
            spans.addFollowers(arena.count[Int(m)] - 1, into: &followers)
            for byte in lo...hi where followers.contains(byte) { set.insert(byte...byte) }
        }
        return set
    }

    /// Marks the tokens at and below trie `node` reached with state `state`, skipping the children whose
    /// byte no stack can take (inside spans most can't: the request continues with a few bytes only).
    func markPruned(_ v: TokenVocabulary, node: Int32, state: Int32, mask: inout TokenMask) {
        for k in Int(v.endingStart[Int(node)])..<Int(v.endingStart[Int(node) + 1]) { mask.insert(Int(v.endingIDs[k])) }
        guard canContinue(state) else { return }
        let candidates = candidateBytes(state)
        for i in Int(v.childStart[Int(node)])..<Int(v.childStart[Int(node) + 1]) where candidates.contains(v.childByte[i]) {
            let after = next(state, v.childByte[i])
            if after >= 0 { markPruned(v, node: v.childNode[i], state: after, mask: &mask) }
        }
    }

    /// Which spans no substring of the request fits: from each span's entry, with an empty stack below,
    /// a search for a way out of the span. Run on a probing matcher (which drops no stacks itself).
    func infeasibleSpans() -> [UInt64] {
        let layout = grammar.spans
        var out = [UInt64](repeating: 0, count: layout.words)
        for span in 0..<layout.count {
            let entry = layout.entryPosition[span]
            guard entry >= 0, case .rule(let r) = grammar.elements[Int(entry)] else { continue }
            var ready: [Int32] = []
            var accepting = false, context = false
            let marker = arena.node(entry, -1, count: RequestSpans.start + 1)
            for start in grammar.alternatives[Int(r)] {
                expand(arena.node(start, marker), into: &ready, accepting: &accepting, context: &context)
            }
            let state = intern(MatcherState(ready: Self.sortedUnique(ready), accepting: accepting))
            if !exitExists(from: state) { out[span / 64] |= 1 << UInt64(span % 64) }
        }
        return out
    }

    /// True when some path of bytes leads from state `start` to a stack outside every span. Depth first:
    /// a span that can be filled is usually shown so along one path as long as its shortest value (the
    /// breadth-first `exitSearch` would visit every prefix of the request first). Past the state budget
    /// it answers true (the grammar bounds real spans well below it).
    func exitExists(from start: Int32) -> Bool {
        var stack: [Int32] = [start]
        var seen: Set<Int32> = [start]
        while let s = stack.popLast() {
            let state = states[Int(s)]
            if state.accepting || state.ready.contains(where: { marker(of: $0) < 0 }) { return true }
            if seen.count > Self.spanSearchStates { return true }
            let candidates = candidateBytes(s)
            for byte in (0...255).reversed() where candidates.contains(UInt8(byte)) {
                let t = next(s, UInt8(byte))
                if t >= 0, seen.insert(t).inserted { stack.append(t) }
            }
        }
        return false
    }
}
