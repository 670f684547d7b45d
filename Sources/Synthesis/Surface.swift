// How a value is written in a request (its *surface form*), and how a new value is written the
// same way.
//
// A slot remembers the form its example used, so a refilled value reads like the original: an
// example that wrote "last 2 hours" for `since_minutes: 120` is refilled as "last 5 hours" with
// 300, one that wrote "$5" as "$12", "URGENT" as "LOW", "this week" (for `this_week`) as "last
// week", "Germany" (for "DE") as "France", "9am" (for "09:00") as "6pm". These are exactly the
// conversions the argument conventions allow, and no others.
//
// A refill may also change the form within its kind (`varied`): a clock time written "9am" in the
// one example that has it comes back as "21:15", "quarter past nine in the evening" or "9:15 PM",
// a small number as a word or as digits, a percentage with another suffix. Each frame then teaches
// every written form of its conversions, not only the one its author happened to use.

import JSON

/// Letter case a slot's text had relative to its value.
enum CaseForm: Sendable, Equatable {
    case asIs, lower, upper, capitalized

    func apply(_ text: String) -> String {
        switch self {
        case .asIs: return text
        case .lower: return text.lowercased()
        case .upper: return text.uppercased()
        case .capitalized: return text.prefix(1).uppercased() + text.dropFirst()
        }
    }

    /// The form that turns `value` into `written`, or nil when none does.
    static func relating(_ value: String, _ written: String) -> CaseForm? {
        if value == written { return .asIs }
        if value.lowercased() == written { return .lower }
        if value.uppercased() == written { return .upper }
        if value.prefix(1).uppercased() + value.dropFirst() == written { return .capitalized }
        return nil
    }
}

/// How a number was written.
enum NumberStyle: Sendable, Equatable {
    /// Digits, with this many decimals when the value is fractional (e.g. "18.50" → 2).
    case digits(fractionDigits: Int)
    /// A number word ("three").
    case word
    /// A money amount: "$5", "12 euros", "€3.50".
    case currency(prefix: String, suffix: String, fractionDigits: Int)
    /// A percentage: "30%", "30 percent".
    case percent(suffix: String)
}

/// Units of time a duration can be written in or a schema can count in.
enum TimeUnit: Int, Sendable, CaseIterable {
    case milliseconds, seconds, minutes, hours, days, weeks

    /// Length in milliseconds.
    var milliseconds: Double {
        switch self {
        case .milliseconds: return 1
        case .seconds: return 1000
        case .minutes: return 60_000
        case .hours: return 3_600_000
        case .days: return 86_400_000
        case .weeks: return 604_800_000
        }
    }

    /// Full singular and plural names.
    var names: (singular: String, plural: String) {
        switch self {
        case .milliseconds: return ("millisecond", "milliseconds")
        case .seconds: return ("second", "seconds")
        case .minutes: return ("minute", "minutes")
        case .hours: return ("hour", "hours")
        case .days: return ("day", "days")
        case .weeks: return ("week", "weeks")
        }
    }
}

/// How a duration was written: "2 hours", "an hour", "90 min", "24h", "last day" (no number).
struct DurationStyle: Sendable, Equatable {
    enum Count: Sendable, Equatable { case digits, word, article, none }
    var unit: TimeUnit
    /// The unit as written when it was an abbreviation ("min", "h", "hrs"), kept for any count.
    var abbreviation: String?
    /// Whether a space separated number and unit.
    var spaced: Bool
    var count: Count
}

/// How a clock time was written.
enum ClockStyle: Sendable, Equatable {
    /// "21:30" or "9:30" (padded: "09:30").
    case twentyFour(padded: Bool)
    /// "9am", "9:30 PM", "9 a.m.".
    case twelve(suffixes: [String], spaced: Bool)
    /// "half past six in the evening", "noon".
    case words
}

/// The form a slot's value takes in the text.
enum SurfaceForm: Sendable, Equatable {
    /// The value itself, in a case form.
    case text(CaseForm)
    /// An enum value with its underscores written as `separator` ("this week").
    case spacedEnum(separator: String, CaseForm)
    /// An ISO 3166-1 alpha-2 code written as a country name.
    case countryName
    /// A number.
    case number(NumberStyle)
    /// A number of `schemaUnit`s written as a duration.
    case duration(DurationStyle, schemaUnit: TimeUnit)
    /// An "HH:MM" value written as a clock time.
    case clock(ClockStyle)

    /// This form or another of the same kind: a clock style (six times in ten), a number word for
    /// digits or digits for a word (one in four: people mostly write digits), a percent suffix (four
    /// in ten). Other forms stay as they are.
    func varied(_ random: inout SynthRandom) -> SurfaceForm {
        switch self {
        case .clock where random.chance(0.6):
            let styles: [ClockStyle] = [.twentyFour(padded: false), .twentyFour(padded: true), .twelve(suffixes: ["am", "pm"], spaced: false),
                                        .twelve(suffixes: ["am", "pm"], spaced: true), .twelve(suffixes: ["AM", "PM"], spaced: true),
                                        .twelve(suffixes: ["a.m.", "p.m."], spaced: true), .words, .words]
            return .clock(random.pick(styles) ?? .words)
        case .number(.digits(0)) where random.chance(0.25): return .number(.word)
        case .number(.word) where random.chance(0.25): return .number(.digits(fractionDigits: 0))
        case .number(.percent) where random.chance(0.4):
            return .number(.percent(suffix: random.pick(NumberText.percentSuffixes.filter { $0 != "pct" }) ?? "%"))
        default: return self
        }
    }

    /// `value` written in this form (nil when it cannot be, e.g. a duration that is not a whole
    /// number of the written unit).
    func render(_ value: JSONValue) -> String? {
        switch (self, value) {
        case (.text(let form), .string(let s)): return form.apply(s)
        case (.text, .number(let n)): return n.text
        case (.text, .bool(let b)): return b ? "true" : "false"
        case (.spacedEnum(let separator, let form), .string(let s)): return form.apply(s.replacingAll("_", with: separator))
        case (.countryName, .string(let code)): return Countries.name(of: code)
        case (.number(let style), .number(let n)): return NumberText.render(n.doubleValue, style: style)
        case (.duration(let style, let schemaUnit), .number(let n)):
            return DurationText.render(n.doubleValue * schemaUnit.milliseconds, style: style)
        case (.clock(let style), .string(let s)): return ClockText.render(s, style: style)
        default: return nil
        }
    }
}
