/// How text is cut into words ("pre-tokens") before byte-level BPE runs on each word separately.
///
/// Each case reproduces llama.cpp's split for the `tokenizer.ggml.pre` names it accepts. The scanner
/// works on Unicode scalars with these classes, as llama.cpp defines them:
/// - `\p{L}`: general category Lu, Ll, Lt, Lm, Lo;
/// - `\p{N}`: general category Nd, Nl, No;
/// - `\s`: the Unicode `White_Space` property (tab…CR, space, U+0085, NBSP, U+1680, U+2000…U+200A,
///   U+2028, U+2029, U+202F, U+205F, U+3000), *not* the Zs category: U+200B is not a space;
/// - everything else (punctuation, symbols, marks, controls, unassigned) is "other".
public enum PreTokenizer: Sendable, Equatable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    /// Contractions are case-sensitive; only U+0020 can be the optional leading space.
    case gpt2
    /// SmolLM / StarCoder: every `\p{N}` scalar is first cut out on its own, then the GPT-2 rules
    /// run inside each resulting piece (their look-ahead never sees past a piece's end).
    case smollm
    /// Qwen2 (and Llama 3's pattern with single digits):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    /// Unlike GPT-2, a letter run may take any one non-newline scalar in front (a tab, a quote), digits
    /// stand alone, contractions ignore case, and newlines end a whitespace run.
    case qwen2

    /// The `tokenizer.ggml.pre` names accepted, and the pre-tokenizer each one means.
    static let namesInGGUF: [String: PreTokenizer] = [
        "gpt-2": .gpt2,
        "smollm": .smollm, "starcoder": .smollm, "refact": .smollm,
        "command-r": .smollm, "codeshell": .smollm, "exaone": .smollm,
        "qwen2": .qwen2,
    ]

    /// The accepted `tokenizer.ggml.pre` names, sorted, for error messages.
    static var supportedNames: [String] { namesInGGUF.keys.sorted() }

    /// The pre-tokenizer named by `tokenizer.ggml.pre` in a GGUF file.
    /// - Throws: `TokenizerError.unsupportedPreTokenizer` for any other name (`llama-bpe`, `deepseek-llm`, …).
    public init(ggufName: String) throws(TokenizerError) {
        guard let known = PreTokenizer.namesInGGUF[ggufName] else {
            throw .unsupportedPreTokenizer(ggufName)
        }
        self = known
    }

    /// Splits `text` into its pre-tokens. Concatenated, they give back `text` exactly.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let words = split(ScalarText(values: scalars.map(\.value)))
        return words.map { range in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
    }

    /// Splits classified scalars into pre-token ranges (indices into `text.scalars`).
    func split(_ text: ScalarText) -> [Range<Int>] {
        var words: [Range<Int>] = []
        words.reserveCapacity(text.count / 3 + 1)
        switch self {
        case .gpt2:
            GPT2Scanner(text: text, end: text.count).scan(from: 0, into: &words)
        case .smollm:
            var pieceStart = 0
            for index in 0..<text.count where text.classes[index] == .number {
                GPT2Scanner(text: text, end: index).scan(from: pieceStart, into: &words)
                words.append(index..<index + 1)
                pieceStart = index + 1
            }
            GPT2Scanner(text: text, end: text.count).scan(from: pieceStart, into: &words)
        case .qwen2:
            var pos = 0
            while pos < text.count {
                let end = Qwen2Scanner(text: text).wordEnd(at: pos)
                words.append(pos..<end)
                pos = end
            }
        }
        return words
    }
}

/// The class of a scalar, as far as the pre-tokenizer patterns care.
enum ScalarClass: UInt8, Sendable {
    case letter, number, whitespace, other

    /// Classes of the 128 ASCII scalars, so that English text never asks for Unicode properties.
    private static let ascii: [ScalarClass] = (0..<128).map { value in
        switch UInt8(value) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }

    /// Classifies one scalar (see `PreTokenizer` for the definitions).
    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        if scalar.value < 128 { return ascii[Int(scalar.value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}

/// A run of scalars with their classes, ready to be scanned.
struct ScalarText {
    /// Scalar values (plain integers so the scanner compares them cheaply).
    let values: [UInt32]
    /// `classes[i]` is the class of `values[i]`.
    let classes: [ScalarClass]

    var count: Int { values.count }

    init(values: [UInt32]) {
        self.values = values
        classes = values.map { value in Unicode.Scalar(value).map(ScalarClass.of) ?? .other }
    }
}

/// The GPT-2 pattern as a hand-written scanner over `text[start..<end]`, following llama.cpp's
/// semantics: positions at or past `end` count as "nothing", so look-ahead stops at the piece end.
private struct GPT2Scanner {
    let text: ScalarText
    let end: Int

    private static let space = UInt32(0x20)
    private static let apostrophe = UInt32(UInt8(ascii: "'"))

    /// The class at `index`, or nil past the piece end.
    @inline(__always)
    private func classAt(_ index: Int) -> ScalarClass? {
        index < end ? text.classes[index] : nil
    }

    /// Appends the words of `text[start..<end]` to `words`.
    func scan(from start: Int, into words: inout [Range<Int>]) {
        var pos = start
        while pos < end {
            let wordEnd = wordEnd(at: pos)
            words.append(pos..<wordEnd)
            pos = wordEnd
        }
    }

    /// The end of the word that starts at `pos` (always greater than `pos`).
    private func wordEnd(at pos: Int) -> Int {
        let scalar = text.values[pos]
        if scalar == GPT2Scanner.apostrophe, let length = contractionLength(at: pos) {
            return pos + length
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the class after an optional leading space.
        let leadsWithSpace = scalar == GPT2Scanner.space
        let runClass = leadsWithSpace ? classAt(pos + 1) : text.classes[pos]
        if let runClass, runClass != .whitespace {
            var index = leadsWithSpace ? pos + 1 : pos
            while classAt(index) == runClass { index += 1 }
            return index
        }
        // `\s+(?!\S)|\s+`: a whitespace run followed by a non-space gives its last scalar back.
        var count = 0
        while classAt(pos + count) == .whitespace { count += 1 }
        if count > 1 && pos + count < end { return pos + count - 1 }
        return pos + max(count, 1)
    }

    /// Length of a contraction (`'s 't 'm 'd 're 've 'll`) at `pos`, if there is one.
    private func contractionLength(at pos: Int) -> Int? {
        guard pos + 1 < end else { return nil }
        let next = text.values[pos + 1]
        switch next {
        case 0x73, 0x74, 0x6D, 0x64:  // s t m d
            return 2
        default:
            guard pos + 2 < end else { return nil }
            let pair = (next, text.values[pos + 2])
            switch pair {
            case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C):  // re ve ll
                return 3
            default:
                return nil
            }
        }
    }
}

/// The Qwen2 pattern as a scanner: the first alternative that matches at a position wins, as in the regex.
private struct Qwen2Scanner {
    let text: ScalarText

    @inline(__always) private func classAt(_ index: Int) -> ScalarClass? { index < text.count ? text.classes[index] : nil }
    @inline(__always) private func isNewline(_ index: Int) -> Bool {
        index < text.count && (text.values[index] == 0x0A || text.values[index] == 0x0D)
    }

    /// The end of the word that starts at `pos` (always greater than `pos`).
    func wordEnd(at pos: Int) -> Int {
        let first = text.classes[pos]
        if text.values[pos] == UInt32(UInt8(ascii: "'")), let length = contractionLength(at: pos) { return pos + length }
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        let lettersFrom = first == .letter ? pos : (first != .number && !isNewline(pos) && classAt(pos + 1) == .letter ? pos + 1 : nil)
        if let start = lettersFrom {
            var index = start
            while classAt(index) == .letter { index += 1 }
            return index
        }
        // `\p{N}`
        if first == .number { return pos + 1 }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let otherFrom = first == .other ? pos : (text.values[pos] == 0x20 && classAt(pos + 1) == .other ? pos + 1 : nil)
        if let start = otherFrom {
            var index = start
            while classAt(index) == .other { index += 1 }
            while isNewline(index) { index += 1 }
            return index
        }
        // Whitespace: `\s*[\r\n]+` takes the run up to its last newline; then `\s+(?!\S)|\s+`.
        var count = 0
        var lastNewline = -1
        while classAt(pos + count) == .whitespace {
            if isNewline(pos + count) { lastNewline = pos + count }
            count += 1
        }
        if lastNewline >= 0 { return lastNewline + 1 }
        if count > 1 && pos + count < text.count { return pos + count - 1 }
        return pos + max(count, 1)
    }

    /// Length of a contraction (`'s 't 'm 'd 're 've 'll`, any case) at `pos`, if there is one.
    private func contractionLength(at pos: Int) -> Int? {
        func lower(_ index: Int) -> UInt32? { index < text.count ? text.values[index] | 0x20 : nil }
        switch lower(pos + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return 2   // s t m d
        case 0x72: return lower(pos + 2) == 0x65 ? 3 : nil   // re
        case 0x76: return lower(pos + 2) == 0x65 ? 3 : nil   // ve
        case 0x6C: return lower(pos + 2) == 0x6C ? 3 : nil   // ll
        default: return nil
        }
    }
}
