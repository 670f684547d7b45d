/// A byte-level BPE tokenizer (llama.cpp's `gpt2` tokenizer model), immutable and shareable.
///
/// Encoding matches llama.cpp token for token: special tokens are cut out of the text first (see
/// `encode(_:parseSpecial:)`), each remaining fragment is split into words by the `PreTokenizer`, and
/// each word's UTF-8 bytes are merged by BPE, lowest merge rank first, leftmost first among equals.
public final class BPETokenizer: Sendable {
    /// Number of tokens in the vocabulary; valid ids are `0..<vocabularySize`.
    public let vocabularySize: Int
    /// The word splitter applied before BPE.
    public let preTokenizer: PreTokenizer
    /// Special-token ids and the add-BOS/EOS flags.
    public let special: SpecialTokens
    /// Tokens that end generation: EOS, EOT/EOM when declared, and any token whose string is one of
    /// llama.cpp's end-of-generation strings (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, …).
    public let endOfGenerationIDs: Set<Int>

    /// Vocabulary strings as stored in the model (byte-level form for normal tokens).
    private let texts: [String]
    private let types: [TokenType]
    /// Raw bytes of every token, concatenated; token `i` is `byteStorage[byteOffsets[i]..<byteOffsets[i+1]]`.
    private let byteStorage: [UInt8]
    private let byteOffsets: [Int]
    /// Merge rules resolved to ids.
    let mergeTable: MergeTable
    /// Control / user-defined tokens to cut out of text before BPE.
    let specialMatcher: SpecialTokenMatcher

    /// Builds a tokenizer from the vocabulary tables of a GGUF file (or any equivalent source).
    ///
    /// - Parameters:
    ///   - tokens: vocabulary strings, normal tokens in the GPT-2 byte-level alphabet (`Ġthe`).
    ///   - tokenTypes: one `TokenType` raw value per token, or empty to treat every token as normal.
    ///   - merges: merge rules in priority order, each `"left right"` in byte-level form.
    ///   - preTokenizer: the word splitter.
    ///   - special: special-token ids and add-BOS/EOS flags.
    /// - Throws: `TokenizerError.invalidVocabulary`, `.invalidMerge` or `.specialTokenOutOfRange`.
    public init(
        tokens: [String], tokenTypes: [Int], merges: [String], preTokenizer: PreTokenizer,
        special: SpecialTokens
    ) throws(TokenizerError) {
        guard !tokens.isEmpty else { throw .invalidVocabulary("the token list is empty") }
        guard tokens.count < Int(Int32.max) / 2 else { throw .invalidVocabulary("too many tokens") }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw .invalidVocabulary("\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        var types: [TokenType] = []
        types.reserveCapacity(tokens.count)
        for (id, raw) in tokenTypes.enumerated() {
            guard let type = TokenType(rawValue: raw) else {
                throw .invalidVocabulary("token \(id) has unknown token type \(raw)")
            }
            types.append(type)
        }
        if types.isEmpty { types = Array(repeating: .normal, count: tokens.count) }
        for (name, id) in special.named {
            if let id, !(0..<tokens.count).contains(id) {
                throw .specialTokenOutOfRange(name: name, id: id, vocabularySize: tokens.count)
            }
        }

        vocabularySize = tokens.count
        self.preTokenizer = preTokenizer
        self.special = special
        texts = tokens
        self.types = types
        (byteStorage, byteOffsets) = BPETokenizer.tokenByteTable(tokens: tokens, types: types)
        mergeTable = try MergeTable(tokens: tokens, merges: merges)
        specialMatcher = SpecialTokenMatcher(tokens: tokens, types: types)
        endOfGenerationIDs = BPETokenizer.endOfGeneration(tokens: tokens, special: special)
    }

    // MARK: Vocabulary

    /// Beginning-of-sequence token id, if the model has one.
    public var bosID: Int? { special.bos }
    /// End-of-sequence token id, if the model has one.
    public var eosID: Int? { special.eos }
    /// Number of byte strings (single bytes included) that BPE can reach but the vocabulary lacks;
    /// their bytes are encoded one token per byte, and bytes with no token are dropped, as in llama.cpp.
    var virtualPieceCount: Int { mergeTable.virtualPieceCount }

    /// The vocabulary string of `id`, as stored in the model: byte-level form for normal tokens
    /// (`"Ġworld"` for `" world"`), clear text for control and user-defined tokens.
    /// - Throws: `TokenizerError.tokenIDOutOfRange`.
    public func tokenText(_ id: Int) throws(TokenizerError) -> String {
        try checkRange(id)
        return texts[id]
    }

    /// The raw bytes `id` stands for when decoded: the byte-level decoding of a normal token (which
    /// may be part of a UTF-8 sequence), the UTF-8 text of a control or user-defined token, and no
    /// bytes for an unused slot. This is what a grammar engine should build its trie from (after
    /// leaving out `isControl` tokens).
    /// - Throws: `TokenizerError.tokenIDOutOfRange`.
    public func tokenBytes(_ id: Int) throws(TokenizerError) -> [UInt8] {
        try checkRange(id)
        return Array(byteStorage[byteOffsets[id]..<byteOffsets[id + 1]])
    }

    /// The type of `id`, or nil if `id` is out of range.
    public func tokenType(_ id: Int) -> TokenType? {
        (0..<vocabularySize).contains(id) ? types[id] : nil
    }

    /// Whether `id` is a control token (`<|im_start|>`, `<|im_end|>`, `<|endoftext|>`…).
    /// False for ids out of range.
    public func isControl(_ id: Int) -> Bool {
        tokenType(id) == .control
    }

    /// The id whose vocabulary string is exactly `text`, byte for byte (byte-level form for normal
    /// tokens: `"Ġworld"`), if any. A linear search: meant for setup code, not for loops.
    public func tokenID(forText text: String) -> Int? {
        texts.lastIndex { $0.utf8.elementsEqual(text.utf8) }
    }

    /// Throws unless `id` is a valid token id.
    @inline(__always)
    func checkRange(_ id: Int) throws(TokenizerError) {
        guard id >= 0 && id < vocabularySize else {
            throw .tokenIDOutOfRange(id: id, vocabularySize: vocabularySize)
        }
    }

    /// Appends the bytes of `id` (assumed in range) to `output`.
    @inline(__always)
    func appendBytes(of id: Int, to output: inout [UInt8]) {
        output.append(contentsOf: byteStorage[byteOffsets[id]..<byteOffsets[id + 1]])
    }

    // MARK: Load-time tables

    /// Concatenated raw bytes of every token, with their start offsets.
    private static func tokenByteTable(tokens: [String], types: [TokenType]) -> ([UInt8], [Int]) {
        var storage: [UInt8] = []
        storage.reserveCapacity(tokens.count * 8)
        var offsets: [Int] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for (text, type) in zip(tokens, types) {
            switch type {
            case .normal, .byte:
                for scalar in text.unicodeScalars {
                    if let byte = ByteLevel.byte(for: scalar) {
                        storage.append(byte)
                    } else {
                        storage.append(contentsOf: String(scalar).utf8)  // not byte-level: keep as written
                    }
                }
            case .control, .userDefined, .unknown:
                storage.append(contentsOf: text.utf8)
            case .unused:
                break
            }
            offsets.append(storage.count)
        }
        return (storage, offsets)
    }

    /// EOS, EOT, EOM and every token spelled like one of llama.cpp's end-of-generation strings.
    private static func endOfGeneration(tokens: [String], special: SpecialTokens) -> Set<Int> {
        var ids = Set([special.eos, special.endOfTurn, special.endOfMessage].compactMap { $0 })
        let longest = SpecialTokens.endOfGenerationTexts.map(\.utf8.count).max() ?? 0
        for (id, text) in tokens.enumerated() {
            // Cheap filter first: every such string starts with "<" or "_" and is short.
            guard let first = text.utf8.first, first == UInt8(ascii: "<") || first == UInt8(ascii: "_"),
                  text.utf8.count <= longest else { continue }
            if SpecialTokens.endOfGenerationTexts.contains(text) { ids.insert(id) }
        }
        return ids
    }
}
