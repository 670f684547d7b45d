// The vocabulary trie, built a level at a time, against the plain definition of a trie.

import Testing
@testable import TokenMatcher

@Suite("Vocabulary trie")
struct VocabularyTrieTests {
    /// Seeded tokens over a small alphabet (so prefixes are shared a lot), with duplicates, empty
    /// control tokens and single bytes at both ends of the byte range.
    static func tokens(seed: UInt64, count: Int) -> [[UInt8]] {
        var state = seed
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let alphabet: [UInt8] = [0x00, 0x20, 0x61, 0x62, 0x63, 0xC3, 0xA9, 0xFF]
        var tokens: [[UInt8]] = [[], [0x00], [0xFF]]
        while tokens.count < count {
            switch next() % 10 {
            case 0: tokens.append([])                                   // a control token
            case 1: tokens.append(tokens[Int(next() % UInt64(tokens.count))])   // a duplicate
            default: tokens.append((0..<(1 + Int(next() % 9))).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
            }
        }
        return tokens
    }

    @Test("every token's path ends at a node listing it; nodes are the distinct prefixes; children in byte order", arguments: [1, 2, 3] as [UInt64])
    func matchesDefinition(seed: UInt64) {
        let tokens = Self.tokens(seed: seed, count: 3000)
        let v = TokenVocabulary(tokens: tokens, endOfGeneration: [])
        // One node per distinct non-empty prefix, plus the root.
        var prefixes = Set<[UInt8]>()
        for t in tokens { for n in stride(from: 1, through: t.count, by: 1) { prefixes.insert(Array(t.prefix(n))) } }
        #expect(v.trieNodeCount == prefixes.count + 1)
        #expect(v.maxTokenLength == tokens.map(\.count).max())
        for n in 0..<v.trieNodeCount {
            let children = v.childByte[Int(v.childStart[n])..<Int(v.childStart[n + 1])]
            #expect(zip(children, children.dropFirst()).allSatisfy { $0 < $1 }, "children of \(n) not in byte order")
            let ids = v.endingIDs[Int(v.endingStart[n])..<Int(v.endingStart[n + 1])]
            #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ids at \(n) not in id order")
        }
        func walk(_ bytes: [UInt8]) -> Int32? {
            var node: Int32 = 0
            for b in bytes {
                let lo = Int(v.childStart[Int(node)]), hi = Int(v.childStart[Int(node) + 1])
                guard let i = (lo..<hi).first(where: { v.childByte[$0] == b }) else { return nil }
                node = v.childNode[i]
            }
            return node
        }
        for (id, t) in tokens.enumerated() {
            guard !t.isEmpty else { continue }
            guard let node = walk(t) else { Issue.record("token \(id) has no path"); continue }
            let ids = v.endingIDs[Int(v.endingStart[Int(node)])..<Int(v.endingStart[Int(node) + 1])]
            #expect(ids.contains(Int32(id)), "token \(id) not listed at its node")
            #expect(ids.allSatisfy { tokens[Int($0)] == t }, "node of token \(id) lists other bytes")
        }
        // Empty (control) tokens are in no node.
        let listed = Set(v.endingIDs)
        #expect(tokens.indices.filter { tokens[$0].isEmpty }.allSatisfy { !listed.contains(Int32($0)) })
        #expect(listed.count == tokens.filter { !$0.isEmpty }.count)
    }

    @Test("an empty vocabulary and one of control tokens only have a bare root")
    func degenerate() {
        for tokens in [[], [[], []]] as [[[UInt8]]] {
            let v = TokenVocabulary(tokens: tokens, endOfGeneration: [])
            #expect(v.trieNodeCount == 1)
            #expect(v.childStart == [0, 0])
        }
    }
}
