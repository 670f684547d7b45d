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
    /// Token ids whose bytes end exactly at node n: endingIDs[endingStart[n] ..< endingStart[n+1]].
    let endingStart: [Int32]
    let endingIDs: [Int32]

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
        endingStart = ending.reduce(into: [Int32(0)]) { $0.append($0[$0.count - 1] + Int32($1.count)) }
        endingIDs = ending.flatMap { $0 }
    }

    /// Number of token ids.
    public var count: Int { tokens.count }
    /// Number of trie nodes (for benchmarks).
    public var trieNodeCount: Int { endingStart.count - 1 }
}

/// The trie's arrays as raw buffers for the duration of one walk (no reference counting per node).
private struct TrieView {
    let childStart: UnsafeBufferPointer<Int32>
    let childByte: UnsafeBufferPointer<UInt8>
    let childNode: UnsafeBufferPointer<Int32>
    let endingStart: UnsafeBufferPointer<Int32>
    let endingIDs: UnsafeBufferPointer<Int32>
}

extension GrammarMatcher {
    /// Marks in `mask` (one flag per token id) every token allowed after the current state:
    /// tokens whose bytes can follow, and end-of-generation tokens if the output is complete.
    public func allowedTokens(_ vocabulary: TokenVocabulary, into mask: inout [Bool]) {
        if mask.count != vocabulary.count { mask = [Bool](repeating: false, count: vocabulary.count) }
        mask.withUnsafeMutableBufferPointer { $0.update(repeating: false) }
        if state.accepting { for id in vocabulary.endOfGeneration where id < mask.count { mask[id] = true } }
        mask.withUnsafeMutableBufferPointer { out in
            vocabulary.childStart.withUnsafeBufferPointer { childStart in
                vocabulary.childByte.withUnsafeBufferPointer { childByte in
                    vocabulary.childNode.withUnsafeBufferPointer { childNode in
                        vocabulary.endingStart.withUnsafeBufferPointer { endingStart in
                            vocabulary.endingIDs.withUnsafeBufferPointer { endingIDs in
                                let trie = TrieView(childStart: childStart, childByte: childByte, childNode: childNode,
                                                    endingStart: endingStart, endingIDs: endingIDs)
                                walk(trie, node: 0, state: currentID, mask: out)
                            }
                        }
                    }
                }
            }
        }
    }

    private func walk(_ trie: TrieView, node: Int32, state: Int32, mask: UnsafeMutableBufferPointer<Bool>) {
        let lo = Int(trie.childStart[Int(node)]), hi = Int(trie.childStart[Int(node) + 1])
        guard lo < hi else { return }
        for i in lo..<hi {
            let after = next(state, trie.childByte[i])
            if after < 0 { continue }
            let child = Int(trie.childNode[i])
            for k in Int(trie.endingStart[child])..<Int(trie.endingStart[child + 1]) { mask[Int(trie.endingIDs[k])] = true }
            if canContinue(after) { walk(trie, node: Int32(child), state: after, mask: mask) }
        }
    }

    /// True when token `id` may come next (its bytes can follow, or it ends generation and the output is complete).
    public func allows(token id: Int, in vocabulary: TokenVocabulary) -> Bool {
        if vocabulary.endOfGeneration.contains(id) { return isAccepting }
        let bytes = vocabulary.tokens[id]
        return !bytes.isEmpty && canAccept(bytes)
    }
}
