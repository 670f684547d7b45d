// The tokenizer: one class for both vocabulary models llama.cpp calls `gpt2` and `llama`.
//
// Why one class, still called `BPETokenizer`: about thirty files use its API (encode, decode,
// tokenBytes, isControl, endOfGenerationIDs, the streaming decoder…), and none of them cares how the
// ids of ordinary text are found. Everything else is the same for both models: the vocabulary strings
// and token types, the special ids and add-BOS/EOS flags, cutting special tokens out of the text
// before merging (`SpecialTokenMatcher`), and decoding through a table of the bytes each token stands
// for. So the class keeps all of that and holds a `VocabularyModel` for the one part that differs:
// - `.byteLevel`: GPT-2-style BPE — words split by a `PreTokenizer`, UTF-8 bytes merged by merge rank
//   (`MergeTable`, BPEMerges.swift);
// - `.sentencePiece`: SentencePiece-style — spaces written as "▁", characters merged by token score,
//   byte-fallback tokens `<0xNN>` for characters the vocabulary lacks (SentencePiece.swift).
// The name says less than it used to; renaming it would touch every user for no gain in behaviour.

/// How a vocabulary turns ordinary text (no special tokens) into ids.
enum VocabularyModel: Sendable {
    /// llama.cpp's `gpt2`: byte-level BPE with merge ranks, after a pre-tokenizer split.
    case byteLevel(MergeTable, PreTokenizer)
    /// llama.cpp's `llama`: SentencePiece merging by score, with byte fallback.
    case sentencePiece(SentencePieceModel)
}

/// A tokenizer for llama.cpp's `gpt2` (byte-level BPE) and `llama` (SentencePiece) vocabularies,
/// immutable and shareable.
///
/// Encoding matches llama.cpp token for token: special tokens are cut out of the text first (see
/// `encode(_:parseSpecial:)`), then each remaining fragment is encoded by the vocabulary's model —
/// byte-level BPE: split into words by the `PreTokenizer`, each word's UTF-8 bytes merged lowest
/// merge rank first, leftmost first among equals; SentencePiece: spaces escaped as "▁", characters
/// merged highest token score first, leftmost first among equals, byte fallback for the rest.
public final class BPETokenizer: Sendable {
    /// Number of tokens in the vocabulary; valid ids are `0..<vocabularySize`.
    public let vocabularySize: Int
    /// The word splitter applied before byte-level BPE; nil for a SentencePiece vocabulary, which
    /// splits no words.
    public let preTokenizer: PreTokenizer?
    /// Special-token ids and the add-BOS/EOS flags.
    public let special: SpecialTokens
    /// Tokens that end generation: EOS, EOT/EOM when declared, and any token whose string is one of
    /// llama.cpp's end-of-generation strings (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, …).
    public let endOfGenerationIDs: Set<Int>

    /// Vocabulary strings as stored in the model (byte-level or "▁" form for normal tokens).
    private let texts: [String]
    private let types: [TokenType]
    /// Raw bytes of every token, concatenated; token `i` is `byteStorage[byteOffsets[i]..<byteOffsets[i+1]]`.
    private let byteStorage: [UInt8]
    private let byteOffsets: [Int]
    /// How ordinary text becomes ids.
    let model: VocabularyModel
    /// Control / user-defined tokens to cut out of text before BPE.
    let specialMatcher: SpecialTokenMatcher

    /// Builds a byte-level BPE tokenizer (llama.cpp's `gpt2`) from the vocabulary tables of a GGUF
    /// file (or any equivalent source).
    ///
    /// - Parameters:
    ///   - tokens: vocabulary strings, normal tokens in the GPT-2 byte-level alphabet (`Ġthe`).
    ///   - tokenTypes: one `TokenType` raw value per token, or empty to treat every token as normal.
    ///   - merges: merge rules in priority order, each `"left right"` in byte-level form.
    ///   - preTokenizer: the word splitter.
    ///   - special: special-token ids and add-BOS/EOS flags.
    /// - Throws: `TokenizerError.invalidVocabulary`, `.invalidMerge` or `.specialTokenOutOfRange`.
    public convenience init(
        tokens: [String], tokenTypes: [Int], merges: [String], preTokenizer: PreTokenizer,
        special: SpecialTokens
    ) throws(TokenizerError) {
        let types = try BPETokenizer.checkedTypes(tokens: tokens, tokenTypes: tokenTypes, special: special)
        let model = VocabularyModel.byteLevel(try MergeTable(tokens: tokens, merges: merges), preTokenizer)
        try self.init(tokens: tokens, types: types, model: model, special: special)
    }

    /// Builds a SentencePiece tokenizer (llama.cpp's `llama`) from the vocabulary tables of a GGUF
    /// file (or any equivalent source).
    ///
    /// - Parameters:
    ///   - tokens: vocabulary strings, spaces written as "▁" (U+2581), byte tokens as `<0x0A>`.
    ///   - tokenTypes: one `TokenType` raw value per token, or empty to treat every token as normal.
    ///   - scores: one score per token (a higher score merges first), or empty for all zero.
    ///   - addSpacePrefix: whether a space is put in front of text that starts the input or follows a
    ///     special token (`tokenizer.ggml.add_space_prefix`).
    ///   - special: special-token ids and add-BOS/EOS flags.
    /// - Throws: `TokenizerError.invalidVocabulary` (counts that disagree, a byte token that does not
    ///   read `<0xNN>`) or `.specialTokenOutOfRange`.
    public convenience init(
        tokens: [String], tokenTypes: [Int], scores: [Float], addSpacePrefix: Bool, special: SpecialTokens
    ) throws(TokenizerError) {
        let types = try BPETokenizer.checkedTypes(tokens: tokens, tokenTypes: tokenTypes, special: special)
        let model = VocabularyModel.sentencePiece(try SentencePieceModel(
            tokens: tokens, scores: scores, addSpacePrefix: addSpacePrefix, unknown: special.unknown))
        try self.init(tokens: tokens, types: types, model: model, special: special)
    }

    /// Stores the checked tables and builds the shared lookup tables.
    private init(tokens: [String], types: [TokenType], model: VocabularyModel, special: SpecialTokens) throws(TokenizerError) {
        vocabularySize = tokens.count
        switch model {
        case .byteLevel(_, let preTokenizer): self.preTokenizer = preTokenizer
        case .sentencePiece: preTokenizer = nil
        }
        self.special = special
        texts = tokens
        self.types = types
        self.model = model
        switch model {
        case .byteLevel: (byteStorage, byteOffsets) = BPETokenizer.byteLevelByteTable(tokens: tokens, types: types)
        case .sentencePiece: (byteStorage, byteOffsets) = try BPETokenizer.sentencePieceByteTable(tokens: tokens, types: types)
        }
        specialMatcher = SpecialTokenMatcher(tokens: tokens, types: types)
        endOfGenerationIDs = BPETokenizer.endOfGeneration(tokens: tokens, special: special)
    }

    /// The token types, checked against the tokens, and the special ids checked against the vocabulary.
    private static func checkedTypes(
        tokens: [String], tokenTypes: [Int], special: SpecialTokens
    ) throws(TokenizerError) -> [TokenType] {
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
        return types
    }

    // MARK: Vocabulary

    /// Beginning-of-sequence token id, if the model has one.
    public var bosID: Int? { special.bos }
    /// End-of-sequence token id, if the model has one.
    public var eosID: Int? { special.eos }
    /// Number of byte strings (single bytes included) that BPE can reach but the vocabulary lacks;
    /// their bytes are encoded one token per byte, and bytes with no token are dropped, as in llama.cpp.
    /// Always 0 for a SentencePiece vocabulary.
    var virtualPieceCount: Int {
        if case .byteLevel(let table, _) = model { return table.virtualPieceCount }
        return 0
    }

    /// The vocabulary string of `id`, as stored in the model: byte-level form for normal tokens of a
    /// byte-level vocabulary (`"Ġworld"` for `" world"`), "▁" for spaces in a SentencePiece one
    /// (`"▁world"`), clear text for control and user-defined tokens.
    /// - Throws: `TokenizerError.tokenIDOutOfRange`.
    public func tokenText(_ id: Int) throws(TokenizerError) -> String {
        try checkRange(id)
        return texts[id]
    }

    /// The raw bytes `id` stands for when decoded, as llama.cpp's `token_to_piece` gives them: the
    /// byte-level decoding of a normal token of a byte-level vocabulary (which may be part of a UTF-8
    /// sequence); the text of a normal SentencePiece token with each "▁" made a space; the one byte
    /// of a byte token (`<0xE2>` → 0xE2); the UTF-8 text of a control, unknown or user-defined token;
    /// and no bytes for an unused slot. This is what a grammar engine should build its trie from
    /// (after leaving out `isControl` tokens).
    /// - Throws: `TokenizerError.tokenIDOutOfRange`.
    public func tokenBytes(_ id: Int) throws(TokenizerError) -> [UInt8] {
        try checkRange(id)
        return Array(byteStorage[byteOffsets[id]..<byteOffsets[id + 1]])
    }

    /// The type of `id`, or nil if `id` is out of range.
    public func tokenType(_ id: Int) -> TokenType? {
        (0..<vocabularySize).contains(id) ? types[id] : nil
    }

    /// Whether `id` is a control token (`<|im_start|>`, `<|im_end|>`, `<|endoftext|>`, `<end_of_turn>`…).
    /// False for ids out of range.
    public func isControl(_ id: Int) -> Bool {
        tokenType(id) == .control
    }

    /// The id whose vocabulary string is exactly `text`, byte for byte (byte-level form for normal
    /// tokens: `"Ġworld"`, `"▁world"`), if any. A linear search: meant for setup code, not for loops.
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

    /// Concatenated raw bytes of every token of a byte-level vocabulary, with their start offsets.
    private static func byteLevelByteTable(tokens: [String], types: [TokenType]) -> ([UInt8], [Int]) {
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

    /// Concatenated raw bytes of every token of a SentencePiece vocabulary, with their start offsets:
    /// "▁" (E2 96 81) becomes a space in normal tokens only, as llama.cpp's `token_to_piece` does.
    /// - Throws: `TokenizerError.invalidVocabulary` for a byte token not spelled `<0xNN>`.
    private static func sentencePieceByteTable(tokens: [String], types: [TokenType]) throws(TokenizerError) -> ([UInt8], [Int]) {
        var storage: [UInt8] = []
        storage.reserveCapacity(tokens.count * 8)
        var offsets: [Int] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for (id, (text, type)) in zip(tokens, types).enumerated() {
            switch type {
            case .normal:
                var text = text
                text.withUTF8 { utf8 in
                    var index = 0
                    while index < utf8.count {
                        if utf8[index] == 0xE2 && index + 2 < utf8.count && utf8[index + 1] == 0x96 && utf8[index + 2] == 0x81 {
                            storage.append(0x20)
                            index += 3
                        } else {
                            storage.append(utf8[index])
                            index += 1
                        }
                    }
                }
            case .byte:
                guard let byte = byteTokenValue(text) else {
                    throw .invalidVocabulary("byte token \(id) is '\(text)', not of the form <0xNN>")
                }
                storage.append(byte)
            case .control, .userDefined, .unknown:
                storage.append(contentsOf: text.utf8)
            case .unused:
                break
            }
            offsets.append(storage.count)
        }
        return (storage, offsets)
    }

    /// The byte a SentencePiece byte token (`<0x0A>`, either case of hex digit) stands for.
    static func byteTokenValue(_ text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"),
              utf8[2] == UInt8(ascii: "x"), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
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
