extension BPETokenizer {
    /// The bytes that `ids` stand for, concatenated (see `tokenBytes(_:)`).
    ///
    /// - Parameters:
    ///   - ids: token ids.
    ///   - renderControlTokens: when true (the default), control tokens appear as their text
    ///     (`<|im_end|>`); when false they produce no bytes.
    /// - Throws: `TokenizerError.tokenIDOutOfRange` for any id outside the vocabulary.
    public func decode(_ ids: [Int], renderControlTokens: Bool = true) throws(TokenizerError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(ids.count * 4)
        for id in ids {
            try checkRange(id)
            if !renderControlTokens && isControl(id) { continue }
            appendBytes(of: id, to: &output)
        }
        return output
    }

    /// `decode(_:)` as a string; bytes that are not valid UTF-8 become U+FFFD.
    public func decodeText(_ ids: [Int], renderControlTokens: Bool = true) throws(TokenizerError) -> String {
        String(decoding: try decode(ids, renderControlTokens: renderControlTokens), as: UTF8.self)
    }
}

/// Turns a stream of token ids into text, one id at a time, emitting only complete UTF-8.
///
/// A token can end in the middle of a multi-byte character (byte-level BPE splits emoji and CJK
/// across tokens); those trailing bytes are held back until the character completes. Bytes that can
/// never become valid are emitted at once as U+FFFD, so a piece is never held back needlessly.
public struct StreamingDecoder: Sendable {
    /// The tokenizer whose vocabulary the ids refer to.
    public let tokenizer: BPETokenizer
    /// Whether control tokens appear as their text (`<|im_end|>`) or as nothing.
    public let renderControlTokens: Bool
    /// Bytes of an incomplete character (at most 3) waiting for the next token.
    private var pending: [UInt8] = []

    /// Creates a decoder with nothing pending.
    public init(tokenizer: BPETokenizer, renderControlTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.renderControlTokens = renderControlTokens
    }

    /// Whether bytes of an incomplete character are waiting.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Adds one token and returns the text that is now complete (possibly empty).
    /// - Throws: `TokenizerError.tokenIDOutOfRange`; the decoder is then unchanged.
    public mutating func feed(_ id: Int) throws(TokenizerError) -> String {
        try tokenizer.checkRange(id)
        if !renderControlTokens && tokenizer.isControl(id) { return "" }
        tokenizer.appendBytes(of: id, to: &pending)
        let cut = StreamingDecoder.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is still held back (an incomplete character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix of `bytes` that can be decoded now: everything except a trailing,
    /// still-valid beginning of a multi-byte UTF-8 sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // A sequence is at most 4 bytes, so an unfinished one starts within the last 3.
        var start = bytes.count - 1
        while start >= 0 && start >= bytes.count - 3 {
            let byte = bytes[start]
            if byte & 0xC0 != 0x80 {  // found the lead byte (or ASCII)
                return isUnfinishedSequence(bytes[start...]) ? start : bytes.count
            }
            start -= 1
        }
        return bytes.count
    }

    /// Whether `tail` is a proper, so far valid, prefix of a UTF-8 encoded scalar.
    private static func isUnfinishedSequence(_ tail: ArraySlice<UInt8>) -> Bool {
        guard let lead = tail.first else { return false }
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        case 0xF1...0xF3: length = 4
        default: return false
        }
        guard tail.count < length else { return false }
        for (offset, byte) in tail.dropFirst().enumerated() {
            let allowed = offset == 0 ? secondRange : 0x80...0xBF
            if !allowed.contains(byte) { return false }
        }
        return true
    }
}
