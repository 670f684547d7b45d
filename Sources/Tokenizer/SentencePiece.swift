// SentencePiece-style merging by score: llama.cpp's `llama` tokenizer model (`llm_tokenizer_spm`),
// used by Gemma, Llama 1/2, Mistral and other SentencePiece vocabularies converted to GGUF.
//
// How llama.cpp encodes one fragment of ordinary text (the special tokens were cut out before):
// 1. every space (U+0020, and only that) becomes "▁" (U+2581), and when `add_space_prefix` is set a
//    "▁" is put in front of a fragment that starts the text or follows a special token;
// 2. the text is cut into UTF-8 characters, one symbol each;
// 3. repeatedly, of all adjacent symbol pairs whose concatenation is a vocabulary string (of any token
//    type), the pair whose token has the highest score is merged — leftmost first among equal scores;
// 4. each remaining symbol becomes its token; a single character with no token becomes one byte token
//    per UTF-8 byte (`<0xNN>`, the byte fallback).
//
// There are no merge rules: the scores decide, so a pair is looked up as a string (in `TokenIndex`).
// llama.cpp also keeps a "reverse merge" map to split a final symbol that is not a token; that cannot
// happen with valid UTF-8 (a merged symbol is a token by construction, and only single characters can
// lack one), so it has no counterpart here.

/// The vocabulary side of a SentencePiece tokenizer: strings, scores, byte fallback.
struct SentencePieceModel: Sendable {
    /// Token id of every vocabulary string.
    let index: TokenIndex
    /// Per token, its score mapped to an integer key that sorts the other way: a smaller key is a
    /// higher score. (An integer compare in the queue instead of a float one, and one key for ties.)
    let priorityKeys: [UInt32]
    /// `byteTokens[b]`: the token written for byte `b` of a character that has no token — `<0xNN>`,
    /// else the one-byte string, else the unknown token; -1 if there is none of them (the byte is
    /// dropped: llama.cpp would stop with an exception there).
    let byteTokens: [Int32]
    /// Whether a "▁" is put in front of text that starts the input or follows a special token.
    let addSpacePrefix: Bool

    /// Indexes the vocabulary.
    /// - Parameters:
    ///   - tokens: vocabulary strings, spaces written as "▁".
    ///   - scores: one score per token (higher merges first), or empty for all zero (as llama.cpp reads
    ///     a file without `tokenizer.ggml.scores`).
    ///   - addSpacePrefix: `tokenizer.ggml.add_space_prefix`.
    ///   - unknown: the unknown token, used for a byte that has no token.
    /// - Throws: `TokenizerError.invalidVocabulary` if the score count differs from the token count.
    init(tokens: [String], scores: [Float], addSpacePrefix: Bool, unknown: Int?) throws(TokenizerError) {
        guard scores.isEmpty || scores.count == tokens.count else {
            throw .invalidVocabulary("\(scores.count) scores for \(tokens.count) tokens")
        }
        let index = TokenIndex(tokens: tokens)
        self.index = index
        priorityKeys = scores.isEmpty
            ? Array(repeating: SentencePieceModel.priorityKey(0), count: tokens.count)
            : scores.map(SentencePieceModel.priorityKey)
        let hex = Array("0123456789ABCDEF".utf8)
        var byteTokens: [Int32] = []
        byteTokens.reserveCapacity(256)
        for byte in 0..<256 {
            let name = String(decoding: [UInt8(ascii: "<"), UInt8(ascii: "0"), UInt8(ascii: "x"),
                                         hex[byte >> 4], hex[byte & 15], UInt8(ascii: ">")], as: UTF8.self)
            let single = [UInt8(byte)].withUnsafeBufferPointer { index.id(of: $0) }
            byteTokens.append(index.id(of: name) ?? single ?? unknown.map { Int32($0) } ?? -1)
        }
        self.byteTokens = byteTokens
        self.addSpacePrefix = addSpacePrefix
    }

    /// A key that orders scores from highest to lowest as unsigned integers (-0 counts as +0).
    static func priorityKey(_ score: Float) -> UInt32 {
        let bits = (score + 0).bitPattern
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return ~ascending
    }
}

/// Reusable buffers for encoding the fragments of one `encode` call with a `SentencePieceModel`.
struct SentencePieceWorkspace {
    /// A run of bytes of `text`; merged-away symbols have length 0.
    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
        /// The token of the run once it was made by a merge; -1 for a symbol that is still one character.
        var token: Int32
    }

    /// A possible merge of `symbols[left]` with the symbol after it, valid while both keep their
    /// lengths (a symbol only grows or empties, so equal lengths mean the pair is unchanged).
    private struct Bigram: MergeQueueElement {
        /// `(priority key << 32) | left`: highest score first, then leftmost, as llama.cpp's queue orders.
        let order: UInt64
        let right: Int32
        let length: Int32
        let token: Int32
    }

    /// The fragment after space escaping.
    private var text: [UInt8] = []
    private var symbols: [Symbol] = []
    private var queue = MergeQueue<Bigram>()

    /// The "▁" that stands for a space.
    private static let escapedSpace: [UInt8] = [0xE2, 0x96, 0x81]

    /// Encodes one fragment of ordinary text and appends its ids to `output`.
    /// - Parameter prefixSpace: whether to put a "▁" in front (add_space_prefix, at the start of the
    ///   input or after a special token).
    mutating func encode(
        _ fragment: ArraySlice<UInt8>, prefixSpace: Bool, model: SentencePieceModel, into output: inout [Int]
    ) {
        text.removeAll(keepingCapacity: true)
        if prefixSpace { text += SentencePieceWorkspace.escapedSpace }
        for byte in fragment {
            if byte == 0x20 { text += SentencePieceWorkspace.escapedSpace } else { text.append(byte) }
        }
        guard !text.isEmpty else { return }
        splitIntoCharacters()
        let text = self.text  // a second reference, not a copy: read while `symbols` and `queue` change
        text.withUnsafeBufferPointer { bytes in
            queue.removeAll()
            for left in 0..<(symbols.count - 1) {
                consider(Int32(left), Int32(left + 1), bytes: bytes, model: model)
            }
            while let bigram = queue.popMin() {
                let left = Int(bigram.order & 0xFFFF_FFFF), right = Int(bigram.right)
                let leftLength = symbols[left].length, rightLength = symbols[right].length
                guard leftLength > 0, rightLength > 0, leftLength + rightLength == bigram.length else { continue }
                let after = symbols[right].next
                symbols[left].length = bigram.length
                symbols[left].token = bigram.token
                symbols[left].next = after
                symbols[right].length = 0
                if after >= 0 { symbols[Int(after)].prev = Int32(left) }
                consider(symbols[left].prev, Int32(left), bytes: bytes, model: model)
                consider(Int32(left), after, bytes: bytes, model: model)
            }
            var current: Int32 = 0
            while current >= 0 {
                let symbol = symbols[Int(current)]
                appendTokens(of: symbol, bytes: bytes, model: model, into: &output)
                current = symbol.next
            }
        }
    }

    /// One symbol per UTF-8 character of `text`, its length read from the lead byte as llama.cpp
    /// does (a stray continuation byte counts as one character; the last one is cut at the end).
    private mutating func splitIntoCharacters() {
        symbols.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < text.count {
            let length = min(SentencePieceWorkspace.characterLength(lead: text[offset]), text.count - offset)
            let index = Int32(symbols.count)
            symbols.append(Symbol(
                start: Int32(offset), length: Int32(length), prev: index - 1,
                next: offset + length == text.count ? -1 : index + 1, token: -1))
            offset += length
        }
    }

    /// The length of a UTF-8 sequence by its lead byte (1 for continuation bytes).
    @inline(__always)
    private static func characterLength(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    /// Appends the token of a final symbol, or the byte fallback of a character that has none.
    private func appendTokens(
        of symbol: Symbol, bytes: UnsafeBufferPointer<UInt8>, model: SentencePieceModel, into output: inout [Int]
    ) {
        if symbol.token >= 0 {
            output.append(Int(symbol.token))
            return
        }
        let run = UnsafeBufferPointer(rebasing: bytes[Int(symbol.start)..<Int(symbol.start + symbol.length)])
        if let id = model.index.id(of: run) {
            output.append(Int(id))
            return
        }
        for byte in run {
            let id = model.byteTokens[Int(byte)]
            if id >= 0 { output.append(Int(id)) }
        }
    }

    /// Queues the merge of two adjacent symbols if their concatenation is a vocabulary string.
    private mutating func consider(_ left: Int32, _ right: Int32, bytes: UnsafeBufferPointer<UInt8>, model: SentencePieceModel) {
        guard left >= 0, right >= 0 else { return }
        let start = Int(symbols[Int(left)].start)
        let length = Int(symbols[Int(left)].length + symbols[Int(right)].length)
        guard let token = model.index.id(of: UnsafeBufferPointer(rebasing: bytes[start..<(start + length)])) else {
            return
        }
        queue.push(Bigram(
            order: UInt64(model.priorityKeys[Int(token)]) << 32 | UInt64(UInt32(left)), right: right,
            length: Int32(length), token: token))
    }
}
