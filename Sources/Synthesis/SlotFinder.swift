// Slot finding: where each argument value of an example sits in its prompt.
//
// For every scalar leaf of the target's arguments the finder looks for the text that states it:
// the value verbatim (at word boundaries), then case-insensitively (remembering the case form), then
// through the documented conversions only: an enum value with spaces or hyphens for underscores,
// a country name for a two-letter code, a clock time for an "HH:MM" pattern, digits or number words
// for numbers ("$5", "30%", "three"), and a duration in any unit for a number whose property counts
// minutes, seconds, hours, days or milliseconds (the unit is read from the property's name, then
// its description). Long strings are placed first, so a free-text reason that happens to contain a
// number claims its span before the number is looked for; no two slots overlap.
//
// A leaf that is not found is either *implied* (booleans and enum values: "turn off" → on:false,
// "get me a manager NOW" → urgent) and stays fixed with the sentence, or *missing* (anything else),
// which the example loader reports as a warning; the row is kept but that value is never refilled.

import JSON
import SchemaGrammar

/// Where one argument leaf is stated in a prompt.
struct Slot: Sendable {
    /// Index of the leaf in the example's leaves.
    var leaf: Int
    /// Character ranges stating the value (the same value may be written more than once).
    var spans: [Range<Int>]
    /// How the value is written there.
    var form: SurfaceForm
}

/// The slots of one example, and the leaves without one.
struct SlotAnalysis: Sendable {
    var slots: [Slot] = []
    /// Leaves fixed by the wording (booleans, enum values not written out).
    var implied: [Int] = []
    /// Leaves whose value could not be found (kept as they are; a warning).
    var missing: [Int] = []
}

enum SlotFinder {
    /// The slots of `leaves` in `prompt`.
    static func find(_ prompt: [Character], leaves: [ArgumentLeaf]) -> SlotAnalysis {
        var analysis = SlotAnalysis()
        var claimed: [Range<Int>] = []
        let numbers = NumberText.scan(prompt)
        let clocks = ClockText.scan(prompt)
        // Strings longest first, then everything else in document order.
        let order = leaves.indices.sorted { a, b in
            let la = leaves[a].value.stringValue?.count ?? -1, lb = leaves[b].value.stringValue?.count ?? -1
            return la != lb ? la > lb : a < b
        }
        for index in order {
            let leaf = leaves[index]
            var found: Slot?
            switch leaf.value {
            case .string(let value):
                found = findString(value, leaf: leaf, prompt: prompt, clocks: clocks, claimed: claimed).map { Slot(leaf: index, spans: $0.spans, form: $0.form) }
            case .number(let number):
                found = findNumber(number.doubleValue, leaf: leaf, mentions: numbers, claimed: claimed).map { Slot(leaf: index, spans: [$0.span], form: $0.form) }
            default:
                break
            }
            if let found {
                claimed += found.spans
                analysis.slots.append(found)
            } else if leaf.value.boolValue != nil || leaf.schema["enum"] != nil || leaf.value == .null {
                analysis.implied.append(index)
            } else {
                analysis.missing.append(index)
            }
        }
        analysis.slots.sort { $0.spans[0].lowerBound < $1.spans[0].lowerBound }
        analysis.implied.sort()
        analysis.missing.sort()
        return analysis
    }

    private static func free(_ span: Range<Int>, _ claimed: [Range<Int>]) -> Bool { !claimed.contains { $0.overlaps(span) } }

    private static func findString(_ value: String, leaf: ArgumentLeaf, prompt: [Character], clocks: [ClockMention],
                                   claimed: [Range<Int>]) -> (spans: [Range<Int>], form: SurfaceForm)? {
        guard !value.isEmpty else { return nil }
        let isEnum = leaf.schema["enum"] != nil
        // An enum whose other values have underscores writes them with spaces ("today" → "this week").
        let spacedSiblings = isEnum && !value.contains("_") && (leaf.schema["enum"]?.arrayValue ?? []).contains { $0.stringValue?.contains("_") ?? false }
        func form(_ caseForm: CaseForm) -> SurfaceForm { spacedSiblings ? .spacedEnum(separator: " ", caseForm) : .text(caseForm) }
        let spans = SlotText.occurrences(of: value, in: prompt, caseInsensitive: false).filter { free($0, claimed) }
        if !spans.isEmpty { return (spans, form(.asIs)) }
        if value.count >= 4 || isEnum {
            let loose = SlotText.occurrences(of: value, in: prompt, caseInsensitive: true).filter { free($0, claimed) }
            if let first = loose.first {
                let written = String(prompt[first])
                return (loose.filter { String(prompt[$0]) == written }, form(CaseForm.relating(value, written) ?? .asIs))
            }
        }
        if isEnum, value.contains("_") {
            for separator in [" ", "-"] {
                let spaced = value.replacingAll("_", with: separator)
                let hits = SlotText.occurrences(of: spaced, in: prompt, caseInsensitive: true).filter { free($0, claimed) }
                if let first = hits.first {
                    let written = String(prompt[first])
                    return ([first], .spacedEnum(separator: separator, CaseForm.relating(spaced, written) ?? .asIs))
                }
            }
        }
        if SchemaShape.wantsCountryCode(leaf.schema), Countries.name(of: value) != nil {
            for name in Countries.names(of: value) {
                if let hit = SlotText.occurrences(of: name, in: prompt, caseInsensitive: true).first(where: { free($0, claimed) }) {
                    return ([hit], .countryName)
                }
            }
        }
        if SchemaShape.wantsClockTime(leaf.schema) {
            if let hit = clocks.first(where: { $0.value == value && free($0.start..<$0.end, claimed) }) {
                return ([hit.start..<hit.end], .clock(hit.style))
            }
        }
        return nil
    }

    private static func findNumber(_ value: Double, leaf: ArgumentLeaf, mentions: [NumberMention],
                                   claimed: [Range<Int>]) -> (span: Range<Int>, form: SurfaceForm)? {
        let unit = DurationText.schemaUnit(propertyName: leaf.propertyName, description: leaf.schema["description"]?.stringValue)
        for mention in mentions where free(mention.start..<mention.end, claimed) {
            switch mention.form {
            case .duration(let style):
                guard let unit, mention.value * style.unit.milliseconds / unit.milliseconds == value else { continue }
                return (mention.start..<mention.end, .duration(style, schemaUnit: unit))
            case .number(let style):
                guard mention.value == value else { continue }
                return (mention.start..<mention.end, .number(style))
            }
        }
        return nil
    }
}

/// What a string schema asks for, as far as conversions care.
enum SchemaShape {
    /// A two-letter capital code (ISO 3166-1 alpha-2): its pattern takes "DE" but not "DEU" or "de",
    /// or its length is exactly 2.
    static func wantsCountryCode(_ schema: JSONValue) -> Bool {
        if let pattern = schema["pattern"]?.stringValue, let matcher = try? PatternMatcher(pattern) {
            return matcher.matches("DE") && matcher.matches("GB") && !matcher.matches("DEU") && !matcher.matches("de")
        }
        return schema["minLength"]?.intValue == 2 && schema["maxLength"]?.intValue == 2
    }

    /// An "HH:MM" time: its pattern takes "09:30" and "23:59" but not "9:30" or "24:00".
    static func wantsClockTime(_ schema: JSONValue) -> Bool {
        guard let pattern = schema["pattern"]?.stringValue, let matcher = try? PatternMatcher(pattern) else {
            return schema["format"]?.stringValue == "time"
        }
        return matcher.matches("09:30") && matcher.matches("23:59") && !matcher.matches("x09:30x")
    }
}

/// Text helpers on character arrays (offsets are Character indices).
enum SlotText {
    /// Lower-cased characters, one for one (a character whose lower case is longer stays as it is).
    static func lowered(_ text: [Character]) -> [Character] {
        text.map { c in
            let l = c.lowercased()
            return l.count == 1 ? Character(l) : c
        }
    }

    static func has(_ lower: [Character], _ s: String, at i: Int) -> Bool {
        let chars = Array(s)
        guard i >= 0, i + chars.count <= lower.count else { return false }
        for k in 0..<chars.count where lower[i + k] != chars[k] { return false }
        return true
    }

    /// The run of letters or digits starting at `i`.
    static func token(_ lower: [Character], from i: Int) -> (String, Int) {
        var j = i
        while j < lower.count, NumberText.isWordChar(lower[j]) { j += 1 }
        return (String(lower[i..<j]), j)
    }

    /// Non-overlapping occurrences of `needle` that do not cut a word at either end.
    static func occurrences(of needle: String, in text: [Character], caseInsensitive: Bool) -> [Range<Int>] {
        let pattern = caseInsensitive ? lowered(Array(needle)) : Array(needle)
        let haystack = caseInsensitive ? lowered(text) : text
        guard let head = pattern.first, let tail = pattern.last, pattern.count <= haystack.count else { return [] }
        var out: [Range<Int>] = []
        var i = 0
        while i + pattern.count <= haystack.count {
            if haystack[i] == head, Array(haystack[i..<(i + pattern.count)]) == pattern {
                let end = i + pattern.count
                let leftOK = !NumberText.isWordChar(head) || i == 0 || !NumberText.isWordChar(haystack[i - 1])
                let rightOK = !NumberText.isWordChar(tail) || end == haystack.count || !NumberText.isWordChar(haystack[end])
                if leftOK && rightOK { out.append(i..<end); i = end; continue }
            }
            i += 1
        }
        return out
    }

    /// The lower-case words of an identifier: `since_minutes` → [since, minutes], `startTime` → [start, time].
    static func words(ofIdentifier name: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previousLower = false
        for c in name {
            if c.isLetter || c.isNumber {
                if c.isUppercase && previousLower { out.append(current); current = "" }
                current += c.lowercased()
                previousLower = c.isLowercase
            } else {
                if !current.isEmpty { out.append(current) }
                current = ""; previousLower = false
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
