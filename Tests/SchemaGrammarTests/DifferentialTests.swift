// Grammars checked against independent oracles over many inputs: Foundation's regex engine
// for `pattern`, arithmetic for number ranges, a calendar table for `format: date`.

import Foundation
import Grammar
import SchemaGrammar
import Testing

@Suite struct DifferentialTests {
    static let patterns = [
        "^[a-c]{1,3}$", "ab*c", "^(a|bc)+$", "^a?b?c?$", "c$", "^b", "^[^a]*$", "^(?:ab|ba){2}$",
        "a.c", "^\\w+\\s\\d$", "^[a-c-]+$", "b{2,}", "^(a|b)(c|a)?$", "^\\D\\S$", "^a|c$",
    ]

    /// Deterministic pseudo-random strings over a small alphabet.
    static func samples() -> [String] {
        let alphabet: [Character] = ["a", "b", "c", "-", " ", "1", "\"", "\\", "\n"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var out: [String] = ["", "a", "b", "c", "ab", "abc", "ba", "abab", "baba", "aa", "bb", "a1", "a 1", "b\"c"]
        for _ in 0..<300 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 60) % 7
            var text = ""
            for i in 0..<length { text.append(alphabet[Int((state >> UInt64(4 * i + 3)) & 0xFF) % alphabet.count]) }
            out.append(text)
        }
        return out
    }

    /// `text` as a JSON string literal with canonical escapes.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test(arguments: patterns) func patternAgreesWithRegexEngine(_ pattern: String) throws {
        let schemaPattern = pattern.replacingOccurrences(of: "\\", with: "\\\\")
        let recognizer = try GrammarRecognizer(compile(#"{"type":"string","pattern":"\#(schemaPattern)"}"#))
        // ICU's `$` also matches before a final newline; ECMA-262's (and the grammar's) does not.
        let regex = try NSRegularExpression(pattern: pattern.replacingOccurrences(of: "$", with: "\\z"))
        for text in Self.samples() {
            let range = NSRange(text.startIndex..., in: text)
            let expected = regex.firstMatch(in: text, range: range) != nil
            let matched = recognizer.matches(Self.quoted(text))
            #expect(matched == expected, "pattern \(pattern) on \(Self.quoted(text))")
        }
    }

    @Test(arguments: [("-1", "1", false, false), ("0", "2", true, false), ("-2", "0", true, true), ("-1.5", "1.5", false, false)])
    func numberRangeAgreesWithArithmetic(_ bounds: (String, String, Bool, Bool)) throws {
        let (low, high, lowExclusive, highExclusive) = bounds
        let schema = #"{"type":"number","\#(lowExclusive ? "exclusiveMinimum" : "minimum")":\#(low),"\#(highExclusive ? "exclusiveMaximum" : "maximum")":\#(high)}"#
        let recognizer = try GrammarRecognizer(compile(schema))
        // Bounds that are not integers are rounded inwards, so the grammar's range is a subset.
        let lo = lowExclusive ? Double(low)! : Double(low)!.rounded(.up)
        let hi = highExclusive ? Double(high)! : Double(high)!.rounded(.down)
        for hundredths in -300...300 {
            let value = Double(hundredths) / 100
            let text = Self.canonical(hundredths)
            let inside = (lowExclusive ? value > lo : value >= lo) && (highExclusive ? value < hi : value <= hi)
            let matched = recognizer.matches(text)
            #expect(matched == inside, "\(schema) on \(text)")
        }
    }

    /// `hundredths / 100` written canonically (no trailing zeros, no -0).
    static func canonical(_ hundredths: Int) -> String {
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = abs(hundredths)
        var fraction = String(magnitude % 100)
        if fraction.count == 1 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(magnitude / 100) + (fraction.isEmpty ? "" : "." + fraction)
    }

    @Test func dateAgreesWithCalendar() throws {
        let recognizer = try GrammarRecognizer(compile(#"{"type":"string","format":"date"}"#))
        let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        for month in 0...13 {
            for day in 0...32 {
                let text = String(format: "\"2023-%02d-%02d\"", month, day)
                let valid = (1...12).contains(month) && day >= 1 && day <= days[month - 1]
                let matched = recognizer.matches(text)
                #expect(matched == valid, "\(text)")
            }
        }
    }
}
