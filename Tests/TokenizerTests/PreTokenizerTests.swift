import Testing
@testable import Tokenizer

/// The hand-written pre-tokenizer scanners (no model needed).
@Suite struct PreTokenizerTests {
    private func smollm(_ text: String) -> [String] { PreTokenizer.smollm.split(text) }
    private func gpt2(_ text: String) -> [String] { PreTokenizer.gpt2.split(text) }

    @Test func wordsTakeTheirLeadingSpace() {
        #expect(smollm("Hello world") == ["Hello", " world"])
        #expect(smollm(" Hello") == [" Hello"])
        #expect(smollm("a, b.") == ["a", ",", " b", "."])
    }

    @Test func smollmCutsEveryDigitAloneButGPT2KeepsRuns() {
        #expect(smollm("ORD-1234") == ["ORD", "-", "1", "2", "3", "4"])
        #expect(gpt2("ORD-1234") == ["ORD", "-", "1234"])
        // The space before a number cannot join it: the digit pass cut it off first.
        #expect(smollm("year 1999") == ["year", " ", "1", "9", "9", "9"])
        #expect(gpt2("year 1999") == ["year", " 1999"])
        #expect(smollm("x2y") == ["x", "2", "y"])
    }

    @Test func nonASCIINumbersAreNumbers() {
        #expect(smollm("٣٤") == ["٣", "٤"])  // Arabic-Indic digits (Nd)
        #expect(smollm("½Ⅻ①") == ["½", "Ⅻ", "①"])  // No, Nl, No
        #expect(gpt2("a ½Ⅻ") == ["a", " ½Ⅻ"])
    }

    @Test func contractionsAreLowercaseOnly() {
        #expect(smollm("don't") == ["don", "'t"])
        #expect(smollm("y'all'd've") == ["y", "'", "all", "'d", "'ve"])
        #expect(smollm("'s 't 're 've 'm 'll 'd") == ["'s", " '", "t", " '", "re", " '", "ve", " '", "m", " '", "ll", " '", "d"])
        #expect(smollm("I'M") == ["I", "'", "M"])
        #expect(smollm("it'S") == ["it", "'", "S"])
        #expect(smollm("'") == ["'"])
    }

    @Test func whitespaceRunGivesItsLastCharacterToTheNextWord() {
        #expect(smollm("hello  world") == ["hello", " ", " world"])
        #expect(smollm("a    b") == ["a", "   ", " b"])
        #expect(smollm("\t tabs") == ["\t", " tabs"])
        #expect(smollm("Hello\n\n\nworld") == ["Hello", "\n\n", "\n", "world"])
        #expect(smollm("    indented") == ["   ", " indented"])
        // A run of one non-space whitespace stands alone.
        #expect(smollm("a\nb") == ["a", "\n", "b"])
        #expect(smollm("\r\nx") == ["\r", "\n", "x"])
    }

    @Test func trailingAndLoneWhitespaceStaysWhole() {
        #expect(smollm("end  ") == ["end", "  "])
        #expect(smollm("   ") == ["   "])
        #expect(smollm(" ") == [" "])
        #expect(smollm("\n\n\n\n") == ["\n\n\n\n"])
        #expect(smollm("") == [])
    }

    @Test func punctuationRunsTakeOneLeadingSpace() {
        #expect(smollm("!!!???...") == ["!!!???..."])
        #expect(smollm("x = {\"a\"}") == ["x", " =", " {\"", "a", "\"}"])
        #expect(smollm("a  ->b") == ["a", " ", " ->", "b"])
    }

    @Test func unicodeLettersMarksAndSpaces() {
        #expect(smollm("Привет, мир!") == ["Привет", ",", " мир", "!"])
        #expect(smollm("日本語のテキスト") == ["日本語のテキスト"])
        #expect(smollm("café") == ["café"])  // precomposed é is a letter
        #expect(smollm("cafe\u{301}") == ["cafe", "\u{301}"])  // a combining mark is not \p{L}
        #expect(smollm("हिन्दी") == ["ह", "ि", "न", "्", "द", "ी"])  // Devanagari vowel signs are marks
        #expect(smollm("a\u{A0}b") == ["a", "\u{A0}", "b"])  // NBSP is \s
        #expect(smollm("a\u{200B}b") == ["a", "\u{200B}", "b"])  // ZWSP is not \s: it is "other"
        #expect(smollm("a\u{3000}b") == ["a", "\u{3000}", "b"])  // only U+0020 can lead a word
        #expect(smollm("a \u{3000}b") == ["a", " ", "\u{3000}", "b"])
        #expect(smollm("😀🎉 ok") == ["😀🎉", " ok"])
    }

    @Test func piecesAlwaysConcatenateToTheInput() {
        let samples = [
            "The quick brown fox.", "  leading", "trailing  ", "mixed\t \n\r\n text", "3.14159 -42",
            "emoji 👍🏽 and 🇩🇪 flags", "'''", "a'b'c", "\u{0}\u{1}\u{7F}", "e\u{301}\u{302}x",
        ]
        for text in samples {
            for pre in PreTokenizer.allCases {
                let words = pre.split(text)
                #expect(words.joined() == text, "\(pre): \(text.debugDescription) → \(words)")
                #expect(!words.contains(""), "\(pre): empty word in \(words)")
            }
        }
    }

    @Test func ggufNamesMapToScannersAndOthersAreRefused() throws {
        #expect(try PreTokenizer(ggufName: "smollm") == .smollm)
        #expect(try PreTokenizer(ggufName: "starcoder") == .smollm)
        #expect(try PreTokenizer(ggufName: "gpt-2") == .gpt2)
        #expect(try PreTokenizer(ggufName: "qwen2") == .qwen2)
        for name in ["llama-bpe", "deepseek-llm", "default", ""] {
            #expect(throws: TokenizerError.unsupportedPreTokenizer(name)) { try PreTokenizer(ggufName: name) }
        }
    }
}
