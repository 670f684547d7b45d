// Which tokens the grammar allows next: a trie over every token's bytes, walked with the parser state
// so that tokens sharing a prefix share the work.

/// The model's vocabulary as bytes, with a trie for mask computation.
public struct TokenVocabulary: Sendable {
    /// Bytes of each token id; empty for control tokens, which the grammar never produces.
    public let tokens: [[UInt8]]
    /// Tokens that end generation; allowed exactly when the output is a complete match.
    public let endOfGeneration: Set<Int>
    // Trie in compressed form: node n's children are childByte/childNode[childStart[n] ..< childStart[n+1]].
    let childStart: [Int32]
    let childByte: [UInt8]
    let childNode: [Int32]
    /// Token ids whose bytes end exactly at each node.
    let endingAt: [[Int32]]

    /// A vocabulary of `tokens` (bytes per id; pass `[]` for ids the grammar must never emit).
    public init(tokens: [[UInt8]], endOfGeneration: Set<Int>) {
        self.tokens = tokens
        self.endOfGeneration = endOfGeneration
        var children: [[UInt8: Int32]] = [[:]]
        var ending: [[Int32]] = [[]]
        for (id, bytes) in tokens.enumerated() where !bytes.isEmpty {
            var node: Int32 = 0
            for b in bytes {
                if let next = children[Int(node)][b] {
                    node = next
                } else {
                    let next = Int32(children.count)
                    children[Int(node)][b] = next
                    children.append([:])
                    ending.append([])
                    node = next
                }
            }
            ending[Int(node)].append(Int32(id))
        }
        var start: [Int32] = [0]
        var bytes: [UInt8] = []
        var nodes: [Int32] = []
        for map in children {
            for (b, n) in map.sorted(by: { $0.key < $1.key }) { bytes.append(b); nodes.append(n) }
            start.append(Int32(bytes.count))
        }
        childStart = start
        childByte = bytes
        childNode = nodes
        endingAt = ending
    }

    /// Number of token ids.
    public var count: Int { tokens.count }
    /// Number of trie nodes (for benchmarks).
    public var trieNodeCount: Int { endingAt.count }
}

extension GrammarMatcher {
    /// Marks in `mask` (one flag per token id) every token allowed after the current state:
    /// tokens whose bytes can follow, and end-of-generation tokens if the output is complete.
    public func allowedTokens(_ vocabulary: TokenVocabulary, into mask: inout [Bool]) {
        if mask.count != vocabulary.count { mask = [Bool](repeating: false, count: vocabulary.count) }
        for i in mask.indices { mask[i] = false }
        let current = state
        if current.accepting { for id in vocabulary.endOfGeneration where id < mask.count { mask[id] = true } }
        let checkpoint = arena.count
        defer { arena.truncate(to: checkpoint) }
        mask.withUnsafeMutableBufferPointer { out in
            walk(vocabulary, node: 0, state: current, mask: out)
        }
    }

    private func walk(_ v: TokenVocabulary, node: Int32, state: MatcherState, mask: UnsafeMutableBufferPointer<Bool>) {
        let lo = Int(v.childStart[Int(node)]), hi = Int(v.childStart[Int(node) + 1])
        guard lo < hi else { return }
        for i in lo..<hi {
            let next = advance(state, v.childByte[i])
            if next.isDead { continue }
            let child = v.childNode[i]
            for id in v.endingAt[Int(child)] { mask[Int(id)] = true }
            if !next.ready.isEmpty { walk(v, node: child, state: next, mask: mask) }
        }
    }

    /// True when token `id` may come next (its bytes can follow, or it ends generation and the output is complete).
    public func allows(token id: Int, in vocabulary: TokenVocabulary) -> Bool {
        if vocabulary.endOfGeneration.contains(id) { return isAccepting }
        let bytes = vocabulary.tokens[id]
        return !bytes.isEmpty && canAccept(bytes)
    }
}
