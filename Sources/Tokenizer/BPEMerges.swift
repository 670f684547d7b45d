/// Byte-level BPE merging on token ids.
///
/// The merge list is resolved once, at load, into a table keyed by pairs of *pieces*: a piece is a
/// vocabulary id, or (for the rare string that a merge produces but the vocabulary lacks) a
/// "virtual" id at or past the vocabulary size. Merging a word then never touches strings.

/// The merge rules of a byte-level BPE vocabulary, resolved to pieces.
struct MergeTable: Sendable {
    /// `(left << 32) | right` → `(rank << 32) | merged piece`; for a repeated pair the first rank wins.
    private let pairs: [UInt64: UInt64]
    /// `bytePieces[b]` is the piece of the one-byte string `b`.
    let bytePieces: [Int32]
    /// Raw bytes of each virtual piece, indexed by `piece - vocabularySize`.
    let virtualPieces: [[UInt8]]
    /// Number of real tokens; pieces at or past it are virtual.
    let vocabularySize: Int

    /// Resolves `merges` (`"left right"` in byte-level form) against the vocabulary strings `tokens`.
    init(tokens: [String], merges: [String]) throws(TokenizerError) {
        var interner = PieceInterner(tokens: tokens)
        var pairs: [UInt64: UInt64] = [:]
        pairs.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            var text = merge
            let resolved = text.withUTF8 { utf8 -> (left: Int32, right: Int32, merged: Int32)? in
                // As llama.cpp does: the separator is the first space after the first byte.
                guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20), space + 1 < utf8.count else {
                    return nil
                }
                let left = UnsafeBufferPointer(rebasing: utf8[..<space])
                let right = UnsafeBufferPointer(rebasing: utf8[(space + 1)...])
                return (interner.piece(left), interner.piece(right), interner.piece(left, right))
            }
            guard let resolved else { throw .invalidMerge(index: rank, text: merge) }
            let key = UInt64(UInt32(resolved.left)) << 32 | UInt64(UInt32(resolved.right))
            if pairs[key] == nil {
                pairs[key] = UInt64(rank) << 32 | UInt64(UInt32(resolved.merged))
            }
        }
        bytePieces = (0..<256).map { byte in
            var text = String(ByteLevel.scalars[byte])
            return text.withUTF8 { interner.piece($0) }
        }
        self.pairs = pairs
        virtualPieces = interner.virtualTexts.map { text in
            let string = String(decoding: text, as: UTF8.self)
            return ByteLevel.decode(string) ?? text
        }
        vocabularySize = tokens.count
    }

    /// The rank of merging `left` with `right`, and the piece it makes, if the pair is a rule.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> (rank: UInt32, piece: Int32)? {
        guard let value = pairs[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] else { return nil }
        return (UInt32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value & 0xFFFF_FFFF))
    }

    /// Number of strings BPE can reach (single bytes included) that the vocabulary lacks.
    var virtualPieceCount: Int { virtualPieces.count }
}

/// Assigns piece ids to byte-level strings while the merge table is built: vocabulary strings get
/// their token ids, other strings the next virtual id. An open-addressing hash table over one flat
/// byte buffer, so that a lookup hashes the bytes in place and allocates nothing.
private struct PieceInterner {
    /// All interned strings, concatenated; piece `p` is `storage[starts[p]..<starts[p + 1]]`.
    private var storage: [UInt8] = []
    private var starts: [Int] = [0]
    /// `slots[h]` is a piece id + 1, or 0 for an empty slot. The count is a power of two.
    private var slots: [Int32]
    private let vocabularySize: Int

    init(tokens: [String]) {
        vocabularySize = tokens.count
        var capacity = 16
        while capacity < tokens.count * 4 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
        storage.reserveCapacity(tokens.count * 8)
        starts.reserveCapacity(tokens.count + 1)
        for (id, token) in tokens.enumerated() {
            var text = token
            text.withUTF8 { utf8 in
                // A duplicate string takes over the slot: later ids win, as in llama.cpp's map.
                let (slot, _) = find(utf8, PieceInterner.empty)
                addEntry(utf8, PieceInterner.empty)
                slots[slot] = Int32(id + 1)
            }
        }
    }

    /// Strings interned beyond the vocabulary, in order of their virtual ids.
    var virtualTexts: [[UInt8]] {
        (vocabularySize..<(starts.count - 1)).map { Array(storage[starts[$0]..<starts[$0 + 1]]) }
    }

    /// The piece of the string `first + second`, interning it as a virtual piece if it is new.
    mutating func piece(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8> = empty) -> Int32 {
        let (slot, existing) = find(first, second)
        if let existing { return existing }
        let id = Int32(starts.count - 1)
        addEntry(first, second)
        slots[slot] = id + 1
        if (starts.count - 1) * 2 > slots.count { rehash() }
        return id
    }

    /// The slot holding `first + second`, with its piece, or the empty slot where it would go.
    private func find(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> (Int, Int32?) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: PieceInterner.hash(first, second)) & mask
        while slots[slot] != 0 {
            let piece = Int(slots[slot] - 1)
            if equals(piece, first, second) { return (slot, Int32(piece)) }
            slot = (slot + 1) & mask
        }
        return (slot, nil)
    }

    /// Whether piece `piece` is the string `first + second`.
    private func equals(_ piece: Int, _ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[piece]
        guard starts[piece + 1] - start == first.count + second.count else { return false }
        return storage[start..<(start + first.count)].elementsEqual(first)
            && storage[(start + first.count)..<(start + first.count + second.count)].elementsEqual(second)
    }

    /// Stores `first + second` as the next entry (whose index is its piece id).
    private mutating func addEntry(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) {
        storage.append(contentsOf: first)
        storage.append(contentsOf: second)
        starts.append(storage.count)
    }

    /// The empty second part of a one-part string.
    private static var empty: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: nil, count: 0) }

    /// Doubles the table and re-inserts every piece in id order (so later duplicates still win).
    private mutating func rehash() {
        slots = Array(repeating: 0, count: slots.count * 2)
        for piece in 0..<(starts.count - 1) {
            let slot = storage[starts[piece]..<starts[piece + 1]].withUnsafeBufferPointer { bytes in
                find(bytes, PieceInterner.empty).0
            }
            slots[slot] = Int32(piece + 1)
        }
    }

    /// FNV-1a over the bytes of `first` then `second`.
    private static func hash(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in first { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        for byte in second { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}

/// Reusable buffers for merging the words of one `encode` call.
struct BPEWorkspace {
    /// One symbol per byte at the start; merged ones are unlinked and get piece -1.
    private struct Symbol {
        var piece: Int32
        var prev: Int32
        var next: Int32
    }

    /// A possible merge of `symbols[left]` and `symbols[right]`, valid while both keep their pieces.
    private struct Candidate: MergeQueueElement {
        /// `(rank << 32) | left`: lowest rank first, then leftmost, as llama.cpp orders its queue.
        let order: UInt64
        let right: Int32
        let leftPiece: Int32
        let rightPiece: Int32
        let merged: Int32
    }

    private var symbols: [Symbol] = []
    private var queue = MergeQueue<Candidate>()

    /// Merges one word (its raw bytes) and appends its token ids to `output`.
    mutating func encode(_ word: ArraySlice<UInt8>, table: MergeTable, into output: inout [Int]) {
        if word.count == 1, let byte = word.first {
            appendPiece(table.bytePieces[Int(byte)], table: table, into: &output)
            return
        }
        symbols.removeAll(keepingCapacity: true)
        queue.removeAll()
        let last = word.count - 1
        for (index, byte) in word.enumerated() {
            symbols.append(Symbol(
                piece: table.bytePieces[Int(byte)], prev: Int32(index - 1), next: index == last ? -1 : Int32(index + 1)))
        }
        for index in 0..<last {
            consider(Int32(index), Int32(index + 1), table: table)
        }
        while let candidate = queue.popMin() {
            let left = Int(candidate.order & 0xFFFF_FFFF)
            let right = Int(candidate.right)
            guard symbols[left].piece == candidate.leftPiece, symbols[right].piece == candidate.rightPiece,
                  symbols[left].next == candidate.right else { continue }
            let after = symbols[right].next
            symbols[left].piece = candidate.merged
            symbols[left].next = after
            symbols[right].piece = -1
            if after >= 0 { symbols[Int(after)].prev = Int32(left) }
            consider(symbols[left].prev, Int32(left), table: table)
            consider(Int32(left), after, table: table)
        }
        var index: Int32 = 0
        while index >= 0 {
            appendPiece(symbols[Int(index)].piece, table: table, into: &output)
            index = symbols[Int(index)].next
        }
    }

    /// Appends a piece: its id if it is a token, else the tokens of its single bytes.
    private func appendPiece(_ piece: Int32, table: MergeTable, into output: inout [Int]) {
        if Int(piece) < table.vocabularySize {
            output.append(Int(piece))
            return
        }
        for byte in table.virtualPieces[Int(piece) - table.vocabularySize] {
            let bytePiece = table.bytePieces[Int(byte)]
            if Int(bytePiece) < table.vocabularySize { output.append(Int(bytePiece)) }
        }
    }

    /// Queues the merge of two adjacent symbols if their pieces form a rule.
    private mutating func consider(_ left: Int32, _ right: Int32, table: MergeTable) {
        guard left >= 0, right >= 0 else { return }
        let leftPiece = symbols[Int(left)].piece
        let rightPiece = symbols[Int(right)].piece
        guard let rule = table.merge(leftPiece, rightPiece) else { return }
        queue.push(Candidate(
            order: UInt64(rule.rank) << 32 | UInt64(UInt32(left)), right: right,
            leftPiece: leftPiece, rightPiece: rightPiece, merged: rule.piece))
    }
}
