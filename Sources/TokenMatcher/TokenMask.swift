// Which tokens the grammar allows next.
//
// A state's mask is the union of its stacks' masks. For one stack, the part above its topmost loop
// frame (plus that frame, with the iteration count normalised) decides most tokens on its own — the
// adaptive token-mask cache of xgrammar: tokens that stay inside that part are accepted or rejected
// whatever lies below, and only tokens that leave the loop need the real stack. A cache entry holds
// the context-independent accepted set as a bitset, and the trie nodes where the context takes over;
// at run time those few subtrees are walked with the real stack. Entries live in the grammar, so
// every request (and every string field sharing the same body rule) reuses them.

import Foundation
import Synchronization

/// The model's vocabulary as bytes, with a trie for mask computation.
public struct TokenVocabulary: Sendable {
    /// Bytes of each token id; empty for control tokens, which the grammar never produces.
    public let tokens: [[UInt8]]
    /// Tokens that end generation; allowed exactly when the output is a complete match.
    public let endOfGeneration: Set<Int>
    /// Identifies this vocabulary in the grammars' mask caches.
    public let id: Int
    /// The longest token in bytes (bounds how far one token can move a loop's count).
    public let maxTokenLength: Int
    // Trie in compressed form: node n's children are childByte/childNode[childStart[n] ..< childStart[n+1]].
    let childStart: [Int32]
    let childByte: [UInt8]
    let childNode: [Int32]
    /// Token ids whose bytes end exactly at node n: endingIDs[endingStart[n] ..< endingStart[n+1]].
    let endingStart: [Int32]
    let endingIDs: [Int32]

    private static let nextID = Atomic<Int>(1)

    /// A vocabulary of `tokens` (bytes per id; pass `[]` for ids the grammar must never emit).
    public init(tokens: [[UInt8]], endOfGeneration: Set<Int>) {
        self.tokens = tokens
        self.endOfGeneration = endOfGeneration
        self.id = Self.nextID.add(1, ordering: .relaxed).newValue
        self.maxTokenLength = tokens.map(\.count).max() ?? 0
        // Built a level at a time, with no per-node lookups: the tokens still longer than the depth are kept
        // ordered by the node they have reached, and a stable sort by (node, next byte) — two counting sorts —
        // puts each node's children side by side and in byte order, so they are numbered as they come (breadth
        // first). That is O(bytes) with sequential access; searching sibling lists for Gemma's 262,144 tokens
        // took ~200 ms, mostly under the nodes for a space and other wide fan-outs.
        var endingNode = [Int32](repeating: -1, count: tokens.count)
        // The bytes laid end to end first: reading tokens[id][depth] in the loops below costs a retain each.
        var offset = [Int32](repeating: 0, count: tokens.count + 1)
        for (id, bytes) in tokens.enumerated() { offset[id + 1] = offset[id] + Int32(bytes.count) }
        var flat = [UInt8](); flat.reserveCapacity(Int(offset[tokens.count]))
        for bytes in tokens { flat.append(contentsOf: bytes) }
        var active = tokens.indices.filter { !tokens[$0].isEmpty }.map(Int32.init)   // ids, ordered by `at`
        var at = [Int32](repeating: 0, count: active.count)                           // the node each has reached
        var byByte = [Int32](repeating: 0, count: active.count), byByteAt = at
        var bytesOut: [UInt8] = [], nodes: [Int32] = [], parents: [Int32] = []
        var nodeCount: Int32 = 1, levelStart: Int32 = 0
        var depth: Int32 = 0
        var byte = [UInt8](repeating: 0, count: active.count), sortedByte = byte
        while !active.isEmpty {
            // Stable counting sort by the byte at `depth`, then by node (nodes of this level are levelStart..<nodeCount).
            var counts = [Int](repeating: 0, count: 257)
            for k in active.indices {
                byte[k] = flat[Int(offset[Int(active[k])] + depth)]
                counts[Int(byte[k]) + 1] += 1
            }
            for b in 0..<256 { counts[b + 1] += counts[b] }
            for k in active.indices {
                let slot = counts[Int(byte[k])]
                byByte[slot] = active[k]; byByteAt[slot] = at[k]; sortedByte[slot] = byte[k]
                counts[Int(byte[k])] = slot + 1
            }
            let levelNodes = Int(nodeCount - levelStart)
            var nodeCounts = [Int](repeating: 0, count: levelNodes + 1)
            for k in active.indices { nodeCounts[Int(byByteAt[k] - levelStart) + 1] += 1 }
            for i in 0..<levelNodes { nodeCounts[i + 1] += nodeCounts[i] }
            for k in active.indices {
                let slot = nodeCounts[Int(byByteAt[k] - levelStart)]
                active[slot] = byByte[k]; at[slot] = byByteAt[k]; byte[slot] = sortedByte[k]
                nodeCounts[Int(byByteAt[k] - levelStart)] = slot + 1
            }
            // One child per run of equal (node, byte); tokens that end there are recorded, the rest go on.
            let nextLevel = nodeCount
            var kept = 0
            var previous: (node: Int32, byte: UInt8) = (-1, 0)
            for k in active.indices {
                let id = active[k], b = byte[k]
                if at[k] != previous.node || b != previous.byte {
                    previous = (at[k], b)
                    bytesOut.append(b); nodes.append(nodeCount); parents.append(at[k])
                    nodeCount += 1
                }
                if offset[Int(id) + 1] - offset[Int(id)] == depth + 1 {
                    endingNode[Int(id)] = nodeCount - 1
                } else {
                    active[kept] = id; at[kept] = nodeCount - 1
                    kept += 1
                }
            }
            active.removeLast(active.count - kept); at.removeLast(at.count - kept)
            levelStart = nextLevel
            depth += 1
        }
        let nodeTotal = Int(nodeCount)
        // Children were appended parent by parent in id order, so each node's are one contiguous run.
        var start = [Int32](repeating: 0, count: nodeTotal + 1)
        for parent in parents { start[Int(parent) + 1] += 1 }
        for n in 0..<nodeTotal { start[n + 1] += start[n] }
        childStart = start
        childByte = bytesOut
        childNode = nodes
        var endingCount = [Int32](repeating: 0, count: nodeTotal)
        for node in endingNode where node >= 0 { endingCount[Int(node)] += 1 }
        // Ids ending at each node, in id order.
        var ending = [Int32](repeating: 0, count: nodeTotal + 1)
        for n in 0..<nodeTotal { ending[n + 1] = ending[n] + endingCount[n] }
        var fill = Array(ending.dropLast())
        var ids = [Int32](repeating: 0, count: Int(ending[nodeTotal]))
        for (id, node) in endingNode.enumerated() where node >= 0 {
            ids[Int(fill[Int(node)])] = Int32(id)
            fill[Int(node)] += 1
        }
        endingStart = ending
        endingIDs = ids
    }

    /// Number of token ids.
    public var count: Int { tokens.count }
    /// Number of trie nodes (for benchmarks).
    public var trieNodeCount: Int { endingStart.count - 1 }
}

/// One cached stack shape: what it accepts whatever lies below, and where the real stack must decide.
struct MaskEntry: Sendable {
    /// Tokens accepted without looking below the cut.
    let accepted: TokenMask
    /// Trie nodes (with the bytes leading to them) whose subtrees depend on the stack below the cut.
    let contextual: [(node: Int32, prefix: [UInt8])]
}

/// Mask entries of one grammar, per vocabulary and stack shape; shared by all matchers of the grammar.
final class MaskCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Int: [[Int32]: MaskEntry]] = [:]

    func entry(vocabulary: Int, key: [Int32]) -> MaskEntry? {
        lock.lock(); defer { lock.unlock() }
        return entries[vocabulary]?[key]
    }

    func store(_ entry: MaskEntry, vocabulary: Int, key: [Int32]) {
        lock.lock(); defer { lock.unlock() }
        entries[vocabulary, default: [:]][key] = entry
    }
}

extension GrammarMatcher {
    /// Sets `mask` to every token allowed after the current state: tokens whose bytes can follow, and
    /// end-of-generation tokens if the output is complete.
    public func allowedTokens(_ vocabulary: TokenVocabulary, into mask: inout TokenMask) {
        if mask.count != vocabulary.count { mask = TokenMask(count: vocabulary.count) } else { mask.removeAll() }
        let current = state
        if current.accepting { for id in vocabulary.endOfGeneration where id < mask.count { mask.insert(id) } }
        let tracking = spans != nil && grammar.spans.count > 0
        for node in current.ready {
            if tracking && marker(of: node) >= 0 {
                // Inside a request span the answer depends on the request: walk the trie with the real
                // stack (the automaton prunes it to a few paths) and leave the shared cache alone.
                markPruned(vocabulary, node: 0, state: intern(MatcherState(ready: [node], accepting: false)), mask: &mask)
                continue
            }
            let (key, boundary) = shapeKey(node, cap: Int32(vocabulary.maxTokenLength + 1))
            let entry = grammar.maskCache.entry(vocabulary: vocabulary.id, key: key)
                ?? computeEntry(node, boundary: boundary, key: key, vocabulary: vocabulary)
            mask.formUnion(entry.accepted)
            if entry.contextual.isEmpty { continue }
            let single = intern(MatcherState(ready: [node], accepting: false))
            for (root, prefix) in entry.contextual {
                let s = run(single, prefix)
                guard s >= 0 else { continue }
                // With a request, these subtrees often enter a span: prune them by what the request allows.
                if tracking { markPruned(vocabulary, node: root, state: s, mask: &mask) } else { markSubtree(vocabulary, node: root, state: s, mask: &mask) }
            }
        }
    }

    /// The cache key of a stack, and where it is cut (the context lies below the cut).
    /// - With a loop frame: positions from the top down to the topmost loop frame, which is recorded as
    ///   (body, owed iterations, room left) capped at `cap` (no token can move a count further), then
    ///   the elements after the loop in its alternative (by content, e.g. a string's closing quote).
    ///   Every string field over the same body at a like count shares one entry.
    /// - Without one: the top position alone, cut right below its own frame (xgrammar's per-position
    ///   cache): tokens that stay inside the alternative are decided once, the rest by the real stack.
    fileprivate func shapeKey(_ node: Int32, cap: Int32) -> (key: [Int32], boundary: Int32) {
        var key: [Int32] = []
        var n = node
        while n >= 0 {
            let p = arena.position[Int(n)]
            if case .loop(let body, let min, let max) = grammar.elements[Int(p)] {
                let done = arena.count[Int(n)]
                let owed = Swift.min(Swift.max(0, min - done), cap)
                let room = max < 0 ? cap : Swift.min(max - done, cap)
                key += [-3, body, owed, room]
                var q = Int(p) + 1
                while true {
                    switch grammar.elements[q] {
                    case .range(let lo, let hi): key += [-4, Int32(lo), Int32(hi)]
                    case .rule(let r): key += [-5, r]
                    case .loop(let b, let lo, let hi): key += [-6, b, lo, hi]
                    case .end: key.append(-7)
                    }
                    if grammar.elements[q] == .end { break }
                    q += 1
                }
                return (key, n)
            }
            key.append(p)
            n = arena.parent[Int(n)]
        }
        return ([arena.position[Int(node)], -8], node)
    }

    /// Walks the trie from the stack cut at `boundary` (its bottom replaced by the context sentinel)
    /// and classifies every token; stores and returns the entry.
    fileprivate func computeEntry(_ node: Int32, boundary: Int32, key: [Int32], vocabulary: TokenVocabulary) -> MaskEntry {
        var frames: [Int32] = []
        var n = node
        while n != boundary { frames.append(n); n = arena.parent[Int(n)] }
        var top = arena.node(arena.position[Int(boundary)], -2, count: arena.count[Int(boundary)])
        for f in frames.reversed() { top = arena.node(arena.position[Int(f)], top, count: arena.count[Int(f)]) }
        let start = intern(MatcherState(ready: [top], accepting: false))
        var accepted = TokenMask(count: vocabulary.count)
        var contextual: [(node: Int32, prefix: [UInt8])] = []
        var path: [UInt8] = []
        let wasSimulating = simulating
        simulating = true
        defer { simulating = wasSimulating }
        classify(vocabulary, trieNode: 0, state: start, touched: false, path: &path, accepted: &accepted, contextual: &contextual)
        let entry = MaskEntry(accepted: accepted, contextual: contextual)
        grammar.maskCache.store(entry, vocabulary: vocabulary.id, key: key)
        return entry
    }

    /// Depth-first over the trie with the cut stack: tokens that end on a live state are accepted;
    /// where the walk dies after the loop could have been left, the subtree belongs to the context.
    private func classify(_ v: TokenVocabulary, trieNode: Int32, state: Int32, touched: Bool, path: inout [UInt8],
                          accepted: inout TokenMask, contextual: inout [(node: Int32, prefix: [UInt8])]) {
        let lo = Int(v.childStart[Int(trieNode)]), hi = Int(v.childStart[Int(trieNode) + 1])
        for i in lo..<hi {
            let byte = v.childByte[i], child = v.childNode[i]
            let after = next(state, byte)
            let live = after >= 0 && canContinue(after)
            let complete = after >= 0 && isAccepting(after)
            let reached = touched || (after >= 0 && reachedContext(after))
            if live || complete {
                for k in Int(v.endingStart[Int(child)])..<Int(v.endingStart[Int(child) + 1]) { accepted.insert(Int(v.endingIDs[k])) }
            }
            if live {
                path.append(byte)
                classify(v, trieNode: child, state: after, touched: reached, path: &path, accepted: &accepted, contextual: &contextual)
                path.removeLast()
            } else if reached {
                contextual.append((child, path + [byte]))
            }
        }
    }

    /// Marks the tokens at and below trie `node`, reached with real state `state`.
    private func markSubtree(_ v: TokenVocabulary, node: Int32, state: Int32, mask: inout TokenMask) {
        for k in Int(v.endingStart[Int(node)])..<Int(v.endingStart[Int(node) + 1]) { mask.insert(Int(v.endingIDs[k])) }
        guard canContinue(state) else { return }
        let lo = Int(v.childStart[Int(node)]), hi = Int(v.childStart[Int(node) + 1])
        for i in lo..<hi {
            let after = next(state, v.childByte[i])
            if after >= 0 { markSubtree(v, node: v.childNode[i], state: after, mask: &mask) }
        }
    }

    /// True when token `id` may come next (its bytes can follow, or it ends generation and the output is complete).
    public func allows(token id: Int, in vocabulary: TokenVocabulary) -> Bool {
        if vocabulary.endOfGeneration.contains(id) { return isAccepting }
        let bytes = vocabulary.tokens[id]
        return !bytes.isEmpty && canAccept(bytes)
    }
}

extension ByteGrammar {
    /// Fills the mask cache for `vocabulary` with the stack shapes every loop reaches at the start of
    /// an iteration: each count that still owes iterations, the steady state (nothing owed, room beyond
    /// any token), and every count of loops shorter than the longest token. Those are the shapes string
    /// and array bodies sit in most of the time, so a first request then rarely misses. Meant for load
    /// time (a daemon warms each catalogue once); returns the number of entries computed.
    @discardableResult
    public func prepareMasks(for vocabulary: TokenVocabulary) -> Int {
        GrammarMatcher(grammar: self).warmLoops(vocabulary)
    }
}

extension GrammarMatcher {
    private func isLoop(_ position: Int32) -> Bool {
        if case .loop = grammar.elements[Int(position)] { return true }
        return false
    }

    fileprivate func warmLoops(_ vocabulary: TokenVocabulary) -> Int {
        let cap = vocabulary.maxTokenLength + 1
        let wasSimulating = simulating
        simulating = true
        defer { simulating = wasSimulating }
        var computed = 0
        for (p, element) in grammar.elements.enumerated() {
            guard case .loop(_, let min, let max) = element else { continue }
            // Frame counts after an iteration: 1...min owe iterations; the steady count owes none.
            var counts = Set(1...Swift.max(1, Swift.min(Int(min), cap)))
            if max >= 0 && Int(max) - Int(min) < cap {
                counts.formUnion(1...Swift.max(1, Int(max)))
            }
            counts.insert(Swift.max(1, Int(min)))
            for frameCount in counts.sorted() where max < 0 || frameCount <= Int(max) {
                var ready: [Int32] = []
                var accepting = false, context = false
                expand(arena.node(Int32(p), -2, count: Int32(frameCount - 1)), into: &ready, accepting: &accepting, context: &context)
                for node in ready {
                    let (key, boundary) = shapeKey(node, cap: Int32(cap))
                    // Stacks that left the loop end on the sentinel: their shape is not one a real stack has.
                    guard boundary != node || arena.parent[Int(node)] != -2 || isLoop(arena.position[Int(node)]) else { continue }
                    guard grammar.maskCache.entry(vocabulary: vocabulary.id, key: key) == nil else { continue }
                    _ = computeEntry(node, boundary: boundary, key: key, vocabulary: vocabulary)
                    computed += 1
                }
            }
        }
        // Every byte position cut below its own frame: the shapes of stacks outside loops.
        for (p, element) in grammar.elements.enumerated() {
            guard case .range = element else { continue }
            let node = arena.node(Int32(p), -2)
            let key: [Int32] = [Int32(p), -8]
            guard grammar.maskCache.entry(vocabulary: vocabulary.id, key: key) == nil else { continue }
            _ = computeEntry(node, boundary: node, key: key, vocabulary: vocabulary)
            computed += 1
        }
        return computed
    }
}
