extension BPETokenizer {
    /// Encodes `text` into token ids.
    ///
    /// - Parameters:
    ///   - text: the text to encode.
    ///   - parseSpecial: when true, control tokens written in the text (`<|im_start|>`, `<|im_end|>`,
    ///     `<|endoftext|>`…) become their single ids; when false they are encoded as plain text.
    ///     User-defined tokens are matched either way, as llama.cpp (and Hugging Face) do.
    ///   - addSpecial: whether to add BOS/EOS as the model's flags ask (llama.cpp's `add_special`). Pass
    ///     false for text that continues a sequence: a reply, a forced span, a turn marker (Gemma and
    ///     Llama 3 set `add_bos_token`, and a BOS there would be a token the model never saw).
    /// - Returns: the ids, with BOS in front / EOS at the end only if `addSpecial` and the model's
    ///   `add_bos_token` / `add_eos_token` flags say so (both are false for SmolLM2).
    public func encode(_ text: String, parseSpecial: Bool, addSpecial: Bool = true) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial, special.addBOS, let bos = special.bos { output.append(bos) }
        appendEncoded(text, parseSpecial: parseSpecial, into: &output)
        if addSpecial, special.addEOS, let eos = special.eos { output.append(eos) }
        return output
    }

    /// Appends the ids of `text` (no BOS/EOS) to `output`.
    func appendEncoded(_ text: String, parseSpecial: Bool, into output: inout [Int]) {
        let bytes = Array(text.utf8)
        let fragments = specialMatcher.partition(bytes, parseSpecial: parseSpecial)
        switch model {
        case .byteLevel(let table, let preTokenizer):
            appendByteLevel(fragments, of: bytes, preTokenizer: preTokenizer, table: table, into: &output)
        case .sentencePiece(let vocabulary):
            appendSentencePiece(fragments, of: bytes, vocabulary: vocabulary, into: &output)
        }
    }

    /// Byte-level BPE: special tokens as they are, each text fragment split into words and merged.
    private func appendByteLevel(
        _ fragments: [SpecialTokenMatcher.Fragment], of bytes: [UInt8], preTokenizer: PreTokenizer, table: MergeTable,
        into output: inout [Int]
    ) {
        var workspace = BPEWorkspace()
        for fragment in fragments {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                appendWords(bytes[range], preTokenizer: preTokenizer, table: table, workspace: &workspace, into: &output)
            }
        }
    }

    /// SentencePiece: special tokens as they are, each text fragment merged whole. As in llama.cpp, the
    /// space prefix (when the model asks for one) goes before text that starts the input or follows a
    /// special token.
    private func appendSentencePiece(
        _ fragments: [SpecialTokenMatcher.Fragment], of bytes: [UInt8], vocabulary: SentencePieceModel,
        into output: inout [Int]
    ) {
        var workspace = SentencePieceWorkspace()
        var afterSpecial = true
        for fragment in fragments {
            switch fragment {
            case .token(let id):
                output.append(id)
                afterSpecial = true
            case .text(let range):
                let prefixSpace = vocabulary.addSpacePrefix ? afterSpecial : false
                workspace.encode(bytes[range], prefixSpace: prefixSpace, model: vocabulary, into: &output)
                afterSpecial = false
            }
        }
    }

    /// Pre-tokenizes and merges text that holds no special token (byte-level BPE).
    private func appendWords(
        _ bytes: ArraySlice<UInt8>, preTokenizer: PreTokenizer, table: MergeTable, workspace: inout BPEWorkspace,
        into output: inout [Int]
    ) {
        let (values, offsets) = BPETokenizer.decodeScalars(bytes)
        let words = preTokenizer.split(ScalarText(values: values))
        for word in words {
            workspace.encode(bytes[offsets[word.lowerBound]..<offsets[word.upperBound]], table: table, into: &output)
        }
    }

    /// Scalar values of UTF-8 bytes, with the byte index where each starts (plus the end index).
    /// Input comes from a `String`, so it is valid; a malformed byte would count as one U+FFFD.
    static func decodeScalars(_ bytes: ArraySlice<UInt8>) -> (values: [UInt32], offsets: [Int]) {
        var values: [UInt32] = []
        var offsets: [Int] = []
        values.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let lead = bytes[index]
            let width: Int
            var value: UInt32
            switch lead {
            case 0x00..<0x80: width = 1; value = UInt32(lead)
            case 0xC0..<0xE0: width = 2; value = UInt32(lead & 0x1F)
            case 0xE0..<0xF0: width = 3; value = UInt32(lead & 0x0F)
            case 0xF0..<0xF8: width = 4; value = UInt32(lead & 0x07)
            default: width = 0; value = 0xFFFD
            }
            offsets.append(index)
            if width == 0 || index + width > bytes.endIndex {
                values.append(0xFFFD)
                index += 1
                continue
            }
            for next in bytes[(index + 1)..<(index + width)] {
                value = value << 6 | UInt32(next & 0x3F)
            }
            values.append(value)
            index += width
        }
        offsets.append(bytes.endIndex)
        return (values, offsets)
    }
}

/// Cuts special-token strings out of text before BPE, the way llama.cpp does: tokens are taken
/// longest first, and each one splits every text fragment left from the previous ones at each of
/// its occurrences.
///
/// A vocabulary can have thousands of such tokens (Gemma 3: 6,249 control and 165 user-defined), so
/// a token is only searched for if the pair of bytes it starts with occurs somewhere in the text.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the text: either a special token or a range of ordinary text.
    enum Fragment: Equatable {
        case token(Int)
        case text(Range<Int>)
    }

    private struct Entry: Sendable {
        let bytes: [UInt8]
        let id: Int
        /// User-defined tokens are matched even when special tokens are not parsed.
        let alwaysMatched: Bool
    }

    /// Longest first; among equal lengths, lower ids first.
    private let entries: [Entry]

    init(tokens: [String], types: [TokenType]) {
        var entries: [Entry] = []
        for (id, (text, type)) in zip(tokens, types).enumerated() where type.isMatchedInText && !text.isEmpty {
            entries.append(Entry(bytes: Array(text.utf8), id: id, alwaysMatched: type == .userDefined))
        }
        entries.sort { ($0.bytes.count, -$0.id) > ($1.bytes.count, -$1.id) }
        self.entries = entries
    }

    /// Splits `bytes` into special tokens and ordinary text ranges (no empty ranges).
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        let pairs = BytePairSet(bytes)
        for entry in entries where (parseSpecial || entry.alwaysMatched) && pairs.mayContain(entry.bytes) {
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count + 2)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                while let found = SpecialTokenMatcher.find(entry.bytes, in: bytes, from: start, to: range.upperBound) {
                    if found > start { next.append(.text(start..<found)) }
                    next.append(.token(entry.id))
                    start = found + entry.bytes.count
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    /// First index `i` in `from..<to` where `needle` occurs entirely within `haystack[from..<to]`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, to: Int) -> Int? {
        guard let first = needle.first, to - from >= needle.count else { return nil }
        var index = from
        let lastStart = to - needle.count
        while index <= lastStart {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}

/// Which bytes, and which pairs of adjacent bytes, occur in a text: a quick "certainly not in the
/// text" for a special token.
private struct BytePairSet {
    /// One bit per pair of bytes (65,536 bits, 8 KiB), and one per byte.
    private var pairBits = [UInt64](repeating: 0, count: 1024)
    private var byteBits = [UInt64](repeating: 0, count: 4)

    init(_ bytes: [UInt8]) {
        var previous: Int? = nil
        for byte in bytes {
            byteBits[Int(byte) >> 6] |= 1 << UInt64(byte & 63)
            if let previous {
                let pair = previous << 8 | Int(byte)
                pairBits[pair >> 6] |= 1 << UInt64(pair & 63)
            }
            previous = Int(byte)
        }
    }

    /// False when `needle` certainly does not occur in the text.
    func mayContain(_ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return false }
        guard needle.count > 1 else { return byteBits[Int(first) >> 6] & (1 << UInt64(first & 63)) != 0 }
        let pair = Int(first) << 8 | Int(needle[1])
        return pairBits[pair >> 6] & (1 << UInt64(pair & 63)) != 0
    }
}
