// Clock times ("9am", "21:30", "half past six in the evening", "noon") and country names, the two
// conversions that turn words into a schema's codes: "HH:MM" when a pattern asks for it, and
// ISO 3166-1 alpha-2 when a string must be two capital letters.

/// A clock time found in a request.
struct ClockMention: Sendable, Equatable {
    var start: Int, end: Int
    /// "HH:MM", 24-hour.
    var value: String
    var style: ClockStyle
}

enum ClockText {
    private static let periods: [(String, Int)] = [(" in the morning", 0), (" in the afternoon", 12), (" in the evening", 12),
                                                    (" at night", 12), (" tonight", 12)]

    static func hhmm(_ hour: Int, _ minute: Int) -> String {
        (hour < 10 ? "0" : "") + String(hour) + ":" + (minute < 10 ? "0" : "") + String(minute)
    }

    /// Every clock time in `text`.
    static func scan(_ text: [Character]) -> [ClockMention] {
        let lower = SlotText.lowered(text)
        var out: [ClockMention] = []
        var i = 0
        while i < lower.count {
            if let m = mention(text, lower, at: i) { out.append(m); i = m.end } else { i += 1 }
        }
        return out
    }

    private static func mention(_ text: [Character], _ lower: [Character], at i: Int) -> ClockMention? {
        guard i == 0 || !NumberText.isWordChar(lower[i - 1]) else { return nil }
        if lower[i].isASCII, lower[i].isNumber { return digitsClock(text, lower, at: i) }
        for (word, hour) in [("noon", 12), ("midday", 12), ("midnight", 0)] where SlotText.has(lower, word, at: i) {
            let end = i + word.count
            guard end >= lower.count || !NumberText.isWordChar(lower[end]) else { continue }
            return ClockMention(start: i, end: end, value: hhmm(hour, 0), style: .words)
        }
        // "half past six", "quarter to 7", "six o'clock", with an optional period of the day.
        var minute = -1, cursor = i, hourShift = 0
        for (lead, m, shift) in [("half past ", 30, 0), ("quarter past ", 15, 0), ("quarter to ", 45, -1)] where SlotText.has(lower, lead, at: i) {
            minute = m; cursor = i + lead.count; hourShift = shift
        }
        let (hourWord, afterHour) = SlotText.token(lower, from: cursor)
        guard let spoken = Int(hourWord) ?? NumberText.wordValue(hourWord), (1...12).contains(spoken) else { return nil }
        var end = afterHour
        if minute < 0 {
            guard SlotText.has(lower, " o'clock", at: end) else { return nil }
            minute = 0; end += 8
        }
        var hour = (spoken + hourShift + 12) % 12
        for (phrase, add) in periods where SlotText.has(lower, phrase, at: end) { hour += add; end += phrase.count; break }
        return ClockMention(start: i, end: end, value: hhmm(hour, minute), style: .words)
    }

    private static func digitsClock(_ text: [Character], _ lower: [Character], at i: Int) -> ClockMention? {
        var j = i
        while j < lower.count, j - i < 2, lower[j].isASCII, lower[j].isNumber { j += 1 }
        guard let hour = Int(String(lower[i..<j])) else { return nil }
        var minute = 0, hasMinutes = false
        if j + 2 < lower.count, lower[j] == ":", let m = Int(String(lower[(j + 1)...(j + 2)])), lower[j + 1].isNumber, lower[j + 2].isNumber {
            minute = m; hasMinutes = true; j += 3
        }
        guard minute < 60 else { return nil }
        let spaced = j < lower.count && lower[j] == " "
        let s = spaced ? j + 1 : j
        for (am, pm) in [("a.m.", "p.m."), ("am", "pm")] {
            for (suffix, isPM) in [(am, false), (pm, true)] where SlotText.has(lower, suffix, at: s) {
                let end = s + suffix.count
                guard end >= lower.count || !lower[end].isLetter, (1...12).contains(hour) else { continue }
                let written = String(text[s..<end])
                let upper = written == written.uppercased()
                let style = ClockStyle.twelve(suffixes: upper ? [am.uppercased(), pm.uppercased()] : [am, pm], spaced: spaced)
                return ClockMention(start: i, end: end, value: hhmm(hour % 12 + (isPM ? 12 : 0), minute), style: style)
            }
        }
        guard hasMinutes, hour < 24, j >= lower.count || !NumberText.isWordChar(lower[j]) else { return nil }
        return ClockMention(start: i, end: j, value: hhmm(hour, minute), style: .twentyFour(padded: j - i == 5))
    }

    /// "HH:MM" written in `style`, or nil when `value` is not a time.
    static func render(_ value: String, style: ClockStyle) -> String? {
        let parts = value.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        let minuteText = (minute < 10 ? ":0" : ":") + String(minute)
        switch style {
        case .twentyFour(let padded): return (padded && hour < 10 ? "0" : "") + String(hour) + minuteText
        case .twelve(let suffixes, let spaced):
            let twelve = hour % 12 == 0 ? 12 : hour % 12
            return String(twelve) + (minute == 0 ? "" : minuteText) + (spaced ? " " : "") + suffixes[hour < 12 ? 0 : 1]
        case .words:
            if minute == 0 && hour == 12 { return "noon" }
            if minute == 0 && hour == 0 { return "midnight" }
            let (spokenHour, lead): (Int, String)
            switch minute {
            case 0: (spokenHour, lead) = (hour, "")
            case 15: (spokenHour, lead) = (hour, "quarter past ")
            case 30: (spokenHour, lead) = (hour, "half past ")
            case 45: (spokenHour, lead) = ((hour + 1) % 24, "quarter to ")
            default: return render(value, style: .twelve(suffixes: ["am", "pm"], spaced: false))
            }
            let twelve = spokenHour % 12 == 0 ? 12 : spokenHour % 12
            // The period is that of the time itself: 11:45 is "quarter to twelve in the morning".
            let period = hour < 12 ? " in the morning" : hour < 18 ? " in the afternoon" : " in the evening"
            return lead + (NumberText.word(for: twelve) ?? String(twelve)) + (minute == 0 ? " o'clock" : "") + period
        }
    }
}

/// Country names and their ISO 3166-1 alpha-2 codes (a generic table: names people write).
enum Countries {
    static let table: [(code: String, names: [String])] = [
        ("GB", ["United Kingdom", "UK", "Great Britain", "England", "Britain"]), ("US", ["United States", "USA", "America"]),
        ("DE", ["Germany", "Deutschland"]), ("FR", ["France"]), ("ES", ["Spain"]), ("IT", ["Italy"]),
        ("NL", ["Netherlands", "the Netherlands", "Holland"]), ("BE", ["Belgium"]), ("AT", ["Austria"]),
        ("CH", ["Switzerland"]), ("IE", ["Ireland"]), ("PT", ["Portugal"]), ("SE", ["Sweden"]), ("NO", ["Norway"]),
        ("DK", ["Denmark"]), ("FI", ["Finland"]), ("PL", ["Poland"]), ("CZ", ["Czech Republic", "Czechia"]),
        ("GR", ["Greece"]), ("HU", ["Hungary"]), ("RO", ["Romania"]), ("CA", ["Canada"]), ("MX", ["Mexico"]),
        ("BR", ["Brazil"]), ("AR", ["Argentina"]), ("AU", ["Australia"]), ("NZ", ["New Zealand"]), ("JP", ["Japan"]),
        ("CN", ["China"]), ("IN", ["India"]), ("KR", ["South Korea", "Korea"]), ("SG", ["Singapore"]),
        ("ZA", ["South Africa"]), ("TR", ["Turkey"]), ("IL", ["Israel"]), ("EG", ["Egypt"]), ("IS", ["Iceland"]),
        ("LU", ["Luxembourg"]), ("EE", ["Estonia"]), ("HR", ["Croatia"]),
    ]

    /// The usual name of `code`.
    static func name(of code: String) -> String? { table.first { $0.code == code }?.names.first }

    static var codes: [String] { table.map(\.code) }

    /// The names of `code`, longest first (so "the Netherlands" wins over "Netherlands").
    static func names(of code: String) -> [String] {
        (table.first { $0.code == code }?.names ?? []).sorted { $0.count > $1.count }
    }
}
