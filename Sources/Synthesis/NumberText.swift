// Numbers and durations in request text: finding them (digits, number words, money, percentages,
// "2 hours", "an hour", "last day") and writing new values in the same style.

/// A number or duration found in a request.
struct NumberMention: Sendable, Equatable {
    /// Character offsets of the whole mention ("$5", "2 hours"; for "last hour" only "hour").
    var start: Int, end: Int
    /// The number as written (for a duration: the count of `unit`s).
    var value: Double
    enum Form: Sendable, Equatable { case number(NumberStyle), duration(DurationStyle) }
    var form: Form
}

enum NumberText {
    static let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
    static let tens = ["twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90]
    static let tensOrder = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

    /// The value of a number word ("seven", "forty", "hundred"), or nil.
    static func wordValue(_ word: String) -> Int? {
        if let i = words.firstIndex(of: word) { return i }
        if let t = tens[word] { return t }
        return word == "hundred" ? 100 : nil
    }

    /// The words for 0…99 ("twenty-four"), or nil beyond.
    static func word(for n: Int) -> String? {
        guard n >= 0, n < 100 else { return nil }
        if n <= 20 { return words[n] }
        let ten = tensOrder[n / 10 - 2]
        return n % 10 == 0 ? ten : ten + "-" + words[n % 10]
    }

    /// Digits for `value`: whole numbers without decimals, others with `fractionDigits` (≥ the digits needed up to 2).
    static func digits(_ value: Double, fractionDigits: Int) -> String {
        if value < 0 { return "-" + digits(-value, fractionDigits: fractionDigits) }
        if value == value.rounded(), value < 1e15 { return String(Int(value)) }
        let cents = Int((value * 100).rounded())
        let whole = cents / 100, fraction = cents % 100
        if fraction % 10 == 0 && fractionDigits < 2 { return "\(whole).\(fraction / 10)" }
        return "\(whole)." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// `value` written in `style`.
    static func render(_ value: Double, style: NumberStyle) -> String? {
        guard value.isFinite else { return nil }
        switch style {
        case .digits(let f): return digits(value, fractionDigits: f)
        case .word:
            if value == value.rounded(), let w = word(for: Int(value)) { return w }
            return digits(value, fractionDigits: 0)
        case .currency(let prefix, let suffix, let f): return prefix + digits(value, fractionDigits: f) + suffix
        case .percent(let suffix): return digits(value, fractionDigits: 0) + suffix
        }
    }

    static let currencyPrefixes: [Character] = ["$", "€", "£"]
    static let currencySuffixes = [" euros", " euro", " dollars", " dollar", " pounds", " bucks", " EUR", " USD", " GBP", "€"]
    static let percentSuffixes = ["%", " percent", " per cent", "pct"]

    /// Unit words, longest first within each unit, with whether they may follow a number unspaced.
    static let unitWords: [(word: String, unit: TimeUnit)] = [
        ("milliseconds", .milliseconds), ("millisecond", .milliseconds), ("ms", .milliseconds),
        ("seconds", .seconds), ("second", .seconds), ("secs", .seconds), ("sec", .seconds), ("s", .seconds),
        ("minutes", .minutes), ("minute", .minutes), ("mins", .minutes), ("min", .minutes), ("m", .minutes),
        ("hours", .hours), ("hour", .hours), ("hrs", .hours), ("hr", .hours), ("h", .hours),
        ("days", .days), ("day", .days), ("d", .days),
        ("weeks", .weeks), ("week", .weeks), ("wks", .weeks), ("wk", .weeks),
    ]

    static func unit(of word: String) -> TimeUnit? { unitWords.first { $0.word == word }?.unit }

    /// Every number and duration mention in `text`, left to right.
    static func scan(_ text: [Character]) -> [NumberMention] {
        let lower = text.map { Character($0.lowercased()) }
        var out: [NumberMention] = []
        var i = 0
        while i < text.count {
            if let m = digitsMention(text, lower, at: i) ?? wordMention(lower, at: i) {
                out.append(m)
                i = max(m.end, i + 1)
            } else {
                i += 1
            }
        }
        return out
    }

    static func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber }

    private static func atWordStart(_ text: [Character], _ i: Int) -> Bool {
        guard i > 0 else { return true }
        let p = text[i - 1]
        if isWordChar(p) { return false }
        // "ORD-4006", "v2.1": digits glued to an identifier are not numbers of their own.
        if (p == "-" || p == "_" || p == "." || p == "/" || p == "#"), i > 1, isWordChar(text[i - 2]) { return false }
        return true
    }

    private static func word(_ lower: [Character], from i: Int) -> (String, Int) {
        var j = i
        while j < lower.count, lower[j].isLetter { j += 1 }
        return (String(lower[i..<j]), j)
    }

    private static func has(_ lower: [Character], _ s: String, at i: Int) -> Bool {
        let chars = Array(s.lowercased())
        guard i + chars.count <= lower.count else { return false }
        return Array(lower[i..<(i + chars.count)]) == chars
    }

    private static func boundary(_ lower: [Character], _ i: Int) -> Bool { i >= lower.count || !isWordChar(lower[i]) }

    /// A duration unit after a count ending at `i`: its end, unit, abbreviation, spacing.
    private static func unitAfter(_ lower: [Character], _ i: Int) -> (end: Int, unit: TimeUnit, abbreviation: String?, spaced: Bool)? {
        let spaced = i < lower.count && lower[i] == " "
        let start = spaced ? i + 1 : i
        let (w, end) = word(lower, from: start)
        guard !w.isEmpty, boundary(lower, end), let unit = unit(of: w) else { return nil }
        if w.count == 1 && spaced { return nil }   // "5 m" is too ambiguous
        let full = w == unit.names.singular || w == unit.names.plural
        return (end, unit, full ? nil : w, spaced)
    }

    private static func digitsMention(_ text: [Character], _ lower: [Character], at i: Int) -> NumberMention? {
        guard text[i].isASCII, text[i].isNumber, atWordStart(text, i) else { return nil }
        var j = i
        while j < text.count, text[j].isASCII, text[j].isNumber { j += 1 }
        var fraction = 0
        if j + 1 < text.count, text[j] == ".", text[j + 1].isASCII, text[j + 1].isNumber {
            j += 1
            while j < text.count, text[j].isASCII, text[j].isNumber { j += 1; fraction += 1 }
        }
        guard let value = Double(String(text[i..<j])) else { return nil }
        if j < text.count, text[j] == ":" { return nil }                       // a clock time
        if let u = unitAfter(lower, j) {
            return NumberMention(start: i, end: u.end, value: value,
                                 form: .duration(DurationStyle(unit: u.unit, abbreviation: u.abbreviation, spaced: u.spaced, count: .digits)))
        }
        if i > 0, currencyPrefixes.contains(text[i - 1]) {
            return NumberMention(start: i - 1, end: j, value: value, form: .number(.currency(prefix: String(text[i - 1]), suffix: "", fractionDigits: fraction)))
        }
        for suffix in percentSuffixes where has(lower, suffix, at: j) && boundary(lower, j + suffix.count) {
            return NumberMention(start: i, end: j + suffix.count, value: value, form: .number(.percent(suffix: suffix)))
        }
        for suffix in currencySuffixes where has(lower, suffix, at: j) && boundary(lower, j + suffix.count) {
            let written = String(text[j..<(j + suffix.count)])
            return NumberMention(start: i, end: j + suffix.count, value: value, form: .number(.currency(prefix: "", suffix: written, fractionDigits: fraction)))
        }
        guard boundary(lower, j) else { return nil }                          // "9am", "3rd", "2x"
        return NumberMention(start: i, end: j, value: value, form: .number(.digits(fractionDigits: fraction)))
    }

    private static func wordMention(_ lower: [Character], at i: Int) -> NumberMention? {
        guard lower[i].isLetter, atWordStart(lower, i) else { return nil }
        let (w, end) = word(lower, from: i)
        // "an hour", "a day"; "half an hour"; "last hour" (the count is implied).
        if w == "a" || w == "an", end < lower.count, lower[end] == " " {
            let (u, uEnd) = word(lower, from: end + 1)
            if let unit = unit(of: u), u == unit.names.singular {
                return NumberMention(start: i, end: uEnd, value: 1, form: .duration(DurationStyle(unit: unit, abbreviation: nil, spaced: true, count: .article)))
            }
            if u == "single", uEnd < lower.count {
                return NumberMention(start: i, end: uEnd, value: 1, form: .number(.word))
            }
        }
        if w == "half", has(lower, " an hour", at: end) || has(lower, " hour", at: end) {
            let stop = end + (has(lower, " an hour", at: end) ? 8 : 5)
            return NumberMention(start: i, end: stop, value: 30, form: .duration(DurationStyle(unit: .minutes, abbreviation: nil, spaced: true, count: .digits)))
        }
        if ["last", "past", "previous"].contains(w), end < lower.count, lower[end] == " " {
            let (u, uEnd) = word(lower, from: end + 1)
            if let unit = unit(of: u), u == unit.names.singular, boundary(lower, uEnd) {
                return NumberMention(start: end + 1, end: uEnd, value: 1, form: .duration(DurationStyle(unit: unit, abbreviation: nil, spaced: true, count: .none)))
            }
        }
        guard var value = wordValue(w), boundary(lower, end) else { return nil }
        var stop = end
        if tens[w] != nil, stop < lower.count, lower[stop] == "-" || lower[stop] == " " {   // "twenty-four"
            let (unitWord, unitEnd) = word(lower, from: stop + 1)
            if let u = words.firstIndex(of: unitWord), (1...9).contains(u) { value += u; stop = unitEnd }
        }
        if let u = unitAfter(lower, stop), u.spaced {
            return NumberMention(start: i, end: u.end, value: Double(value),
                                 form: .duration(DurationStyle(unit: u.unit, abbreviation: u.abbreviation, spaced: true, count: .word)))
        }
        return NumberMention(start: i, end: stop, value: Double(value), form: .number(.word))
    }
}

enum DurationText {
    /// `milliseconds` written as a count of the style's unit, or nil when it is not a whole positive count.
    static func render(_ milliseconds: Double, style: DurationStyle) -> String? {
        let count = milliseconds / style.unit.milliseconds
        guard count >= 1, count == count.rounded(), count < 1e9 else { return nil }
        let n = Int(count)
        let unitText = style.abbreviation ?? (n == 1 ? style.unit.names.singular : style.unit.names.plural)
        let gap = style.spaced ? " " : ""
        switch style.count {
        case .none where n == 1: return unitText
        case .article where n == 1: return (style.unit == .hours ? "an " : "a ") + unitText
        case .word: return (NumberText.word(for: n) ?? String(n)) + " " + unitText
        default: return String(n) + gap + unitText
        }
    }

    /// The unit a numeric property counts in, from its name's words, then its description's.
    static func schemaUnit(propertyName: String, description: String?) -> TimeUnit? {
        let nameWords = SlotText.words(ofIdentifier: propertyName)
        let named: [(String, TimeUnit)] = [("ms", .milliseconds), ("millis", .milliseconds), ("milliseconds", .milliseconds),
                                           ("seconds", .seconds), ("secs", .seconds), ("sec", .seconds), ("minutes", .minutes),
                                           ("mins", .minutes), ("min", .minutes), ("hours", .hours), ("hrs", .hours),
                                           ("days", .days), ("weeks", .weeks)]
        for word in nameWords.reversed() { if let hit = named.first(where: { $0.0 == word }) { return hit.1 } }
        guard let description else { return nil }
        let descriptionWords = description.lowercased().split { !$0.isLetter }.map(String.init)
        for word in descriptionWords { if let hit = named.first(where: { $0.0 == word }) { return hit.1 } }
        return nil
    }
}
