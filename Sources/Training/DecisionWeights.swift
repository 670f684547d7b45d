// Per-token loss weights that make the trainer care about the tokens that decide a call.
//
// Most completion tokens are copies (JSON punctuation, spans of the request) that the model learns at once;
// with a plain mean loss it reached 0.05 on its training rows while still choosing the wrong tool on 15% of
// them. The tokens that decide a call are the tool name, which argument key comes next, numbers and
// booleans, and the structural tokens that end a value (`","`, `"}}`). Those touching any such byte get
// weight W; the rest (string contents) 1; the end-of-turn token 1.
//
// Given the request, string values weigh by what they are. A value that is a span of the request is a
// copy: only its first byte decides (which span), the rest follows. A value that is not — an enum value
// the wording implies ("eco", "this_week"), a converted clock time ("9pm" → "21:00"), a country code — is
// a decision all through, like a number. (A no_tool reason is neither: its words do not route anything.)

import Tokenizer

/// The decision-weighting of a canonical completion.
public enum DecisionWeights {
    /// Why weights could not be computed.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The ids' bytes do not spell the completion (the tokenizer is not byte-level, or ids and text differ).
        case idsDoNotSpellCompletion
        /// An id is outside the vocabulary.
        case unknownToken(Int)

        public var description: String {
            switch self {
            case .idsDoNotSpellCompletion: return "the completion's token ids do not decode to its text"
            case .unknownToken(let id): return "token id \(id) is not in the vocabulary"
            }
        }
    }

    /// One weight per id of `ids` (the tokens of `completion`), then 1 for the end token. With `weight` 1
    /// every token weighs 1.
    public static func weights(completion: String, ids: [Int], tool: String, request: String? = nil, tokenizer: BPETokenizer,
                               weight: Double) throws(Failure) -> [Double] {
        if weight == 1 { return Array(repeating: 1, count: ids.count + 1) }
        var spans: [[UInt8]] = []
        for id in ids {
            do { spans.append(try tokenizer.tokenBytes(id)) } catch { throw .unknownToken(id) }
        }
        return try weights(completion: completion, tokenBytes: spans, tool: tool, request: request, weight: weight)
    }

    /// The same, from each token's bytes (the core, testable without a tokenizer).
    public static func weights(completion: String, tokenBytes: [[UInt8]], tool: String, request: String? = nil,
                               weight: Double) throws(Failure) -> [Double] {
        let bytes = Array(completion.utf8)
        guard tokenBytes.reduce(0, { $0 + $1.count }) == bytes.count, Array(tokenBytes.joined()) == bytes else {
            throw .idsDoNotSpellCompletion
        }
        let decisive = decisiveBytes(bytes, tool: tool, request: request.map { Array($0.utf8) })
        var result: [Double] = []
        var offset = 0
        for token in tokenBytes {
            let touches = decisive[offset..<(offset + token.count)].contains(true)
            result.append(touches ? weight : 1)
            offset += token.count
        }
        return result + [1]
    }

    /// Marks the bytes of compact JSON that decide a call: everything outside string contents (quotes,
    /// punctuation, numbers, true/false/null), the contents of every object key, and the tool's name; with
    /// the request's bytes, also the first byte of a value copied from it and all of any other value.
    static func decisiveBytes(_ bytes: [UInt8], tool: String, request: [UInt8]? = nil) -> [Bool] {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
        var decisive = Array(repeating: false, count: bytes.count)
        var inString = false, escaped = false, stringStart = 0
        var strings: [Range<Int>] = []   // contents of each string, to mark keys and the tool name afterwards
        for (index, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == backslash {
                    escaped = true
                } else if byte == quote {
                    inString = false
                    decisive[index] = true
                    strings.append(stringStart..<index)
                }
            } else {
                decisive[index] = true
                if byte == quote {
                    inString = true
                    stringStart = index + 1
                }
            }
        }
        let toolBytes = Array(tool.utf8)
        for (position, contents) in strings.enumerated() {
            let isKey = contents.upperBound + 1 < bytes.count && bytes[contents.upperBound + 1] == colon
            // Canonical order puts `"tool":"NAME"` first: the second string is the tool's name.
            let isToolName = position == 1 && Array(bytes[contents]) == toolBytes
            if isKey || isToolName {
                for index in contents { decisive[index] = true }
            } else if let request, tool != "no_tool", !contents.isEmpty {
                let copied = occurs(bytes[contents], in: request)
                for index in copied ? contents.prefix(1) : contents { decisive[index] = true }
            }
        }
        return decisive
    }

    private static func occurs(_ needle: ArraySlice<UInt8>, in haystack: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
