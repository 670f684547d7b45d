// Value pools: where refilled slot values come from, built from the schema alone plus the examples.
//
// Per schema place (tool + pool key, e.g. `update_address /address/city`), in this order of trust:
// `enum` values; for strings, the values the examples use there and under the same property name
// elsewhere in the catalogue, the schema's own `examples`, small generic pools keyed by generic
// property-name words (people, cities, streets, postal codes, emails), and for a `pattern` strings
// drawn from the pattern itself: compounds of a generic word list first ("billing-worker" reads
// better than "qzv-x7"), then walks of the regex automaton (`PatternSampler`). Clock ("HH:MM") and
// country-code strings get plausible times and real codes; `format`s get well-formed values.
// Grounded names (`x-from-input` strings with no pattern, enum or format) also get novel values: an
// example's value with one word swapped for a generic noun or a person's name, sometimes
// capitalised. The model copies such values from the request; a dozen example values would be
// learnt as a closed list instead ("Den" and "porch" never seen, the nearest known room answered).
// Numbers are drawn inside minimum/maximum, biased to small and round values, and drawn in the
// slot's own unit for durations (so "last 3 hours" is always a whole number of hours). Every
// candidate passes the leaf's schema (the daemon's validator) before it joins a pool.

import JSON
import SchemaGrammar
import ToolCalls

struct ValuePool: Sendable {
    let schema: JSONValue
    private let validator: SchemaValidator?
    private let enumValues: [JSONValue]
    private let exampleValues: [JSONValue]
    private let candidates: [JSONValue]
    private let isClock: Bool
    private let format: String?

    /// Other verbatim spans for a free-text property (clauses of the examples, generic clauses).
    private let freeText: [JSONValue]
    /// Grounded names: invent values by swapping a word of an example value.
    private let novelNames: Bool

    init(schema: JSONValue, propertyName: String, exampleValues: [JSONValue], siblingValues: [JSONValue], clauses: [String] = [],
         random: inout SynthRandom) {
        self.schema = schema
        let validator = try? SchemaValidator(schema: schema)
        self.validator = validator
        func accepts(_ v: JSONValue) -> Bool { validator?.isValid(v) ?? true }
        enumValues = schema["enum"]?.arrayValue?.filter(accepts) ?? []
        self.exampleValues = Self.unique(exampleValues.filter(accepts))
        isClock = SchemaShape.wantsClockTime(schema)
        format = schema["format"]?.stringValue
        var generated: [JSONValue] = []
        if enumValues.isEmpty, exampleValues.allSatisfy({ $0.stringValue != nil }) {
            generated += siblingValues
            generated += schema["examples"]?.arrayValue ?? []
            if SchemaShape.wantsCountryCode(schema) { generated += Countries.codes.map(JSONValue.string) }
            let allLower = !exampleValues.isEmpty && exampleValues.allSatisfy { $0.stringValue.map { $0 == $0.lowercased() } ?? false }
            for word in GenericText.poolWords(for: propertyName) {
                generated += GenericText.pool(word, random: &random).map { JSONValue.string(allLower ? $0.lowercased() : $0) }
            }
            if let pattern = schema["pattern"]?.stringValue, let sampler = try? PatternSampler(pattern) {
                for _ in 0..<80 where generated.count < 60 {
                    let compound = GenericText.compound(random: &random)
                    if sampler.matches(compound) { generated.append(.string(compound)) }
                }
                // Automaton walks read like noise ("hwrp2"); they fill in only when few words fit the pattern.
                if generated.count < 12 {
                    for _ in 0..<12 { if let s = sampler.sample(using: &random) { generated.append(.string(s)) } }
                }
            }
        }
        candidates = Self.unique(generated.filter(accepts))
        // Free text (several words, no pattern, enum or format) is copied as a span, so any clause
        // teaches the copy; a few example values alone would be learnt by heart.
        let words = exampleValues.compactMap(\.stringValue).map { $0.split(separator: " ").count }
        let isFreeText = schema["pattern"] == nil && schema["format"] == nil && enumValues.isEmpty
            && !words.isEmpty && words.reduce(0, +) >= 3 * words.count
        freeText = isFreeText ? Self.unique(clauses.map(JSONValue.string).filter(accepts)) : []
        novelNames = schema["x-from-input"] == .bool(true) && schema["pattern"] == nil && schema["format"] == nil
            && enumValues.isEmpty && !isFreeText && !self.exampleValues.isEmpty
    }

    /// An example value with one word swapped for a generic noun (or a name, possessive before a noun),
    /// the new word in the old one's case; sometimes capitalised as a whole.
    private func novelName(random: inout SynthRandom) -> JSONValue? {
        guard let base = random.pick(exampleValues)?.stringValue else { return nil }
        var words = base.split(separator: " ").map(String.init)
        guard !words.isEmpty else { return nil }
        let at = random.below(words.count)
        var word: String
        if words.count > 1, at < words.count - 1, random.chance(0.3) {
            word = (random.pick(GenericText.firstNames) ?? "Sam") + "'s"
        } else {
            word = random.pick(GenericText.nouns) ?? "guest"
        }
        let old = words[at]
        if old.first?.isUppercase ?? false { word = word.prefix(1).uppercased() + word.dropFirst() }
        else if word.first?.isUppercase ?? false, !word.hasSuffix("'s") { word = word.lowercased() }
        words[at] = word
        var out = words.joined(separator: " ")
        if random.chance(0.2) { out = out.prefix(1).uppercased() + out.dropFirst() }
        return .string(out)
    }

    private static func unique(_ values: [JSONValue]) -> [JSONValue] {
        var seen: Set<JSONValue> = []
        return values.filter { seen.insert($0).inserted }
    }

    func accepts(_ value: JSONValue) -> Bool { validator?.isValid(value) ?? true }

    /// A fresh value that `form` can write, or nil.
    func draw(for form: SurfaceForm, random: inout SynthRandom) -> JSONValue? {
        for _ in 0..<8 {
            guard let value = candidate(for: form, random: &random) else { return nil }
            if accepts(value), form.render(value) != nil { return value }
        }
        return nil
    }

    private func candidate(for form: SurfaceForm, random: inout SynthRandom) -> JSONValue? {
        if !enumValues.isEmpty { return random.pick(enumValues) }
        if case .duration(let style, let unit) = form { return duration(style, schemaUnit: unit, random: &random) }
        if case .number(let style) = form { return number(style, random: &random) }
        if isClock {
            let hour = random.int(in: 6...22), minute = random.pick([0, 0, 0, 15, 30, 30, 45]) ?? 0
            return .string(ClockText.hhmm(hour, minute))
        }
        if let format, let value = FormatValues.make(format, random: &random) { return .string(value) }
        if !freeText.isEmpty, random.chance(0.4) { return random.pick(freeText) }
        if novelNames, random.chance(0.45), let name = novelName(random: &random) { return name }
        if !exampleValues.isEmpty, candidates.isEmpty || random.chance(0.35) { return random.pick(exampleValues) }
        return random.pick(candidates) ?? random.pick(exampleValues)
    }

    private var isInteger: Bool {
        schema["type"]?.stringValue == "integer" || (schema["type"]?.arrayValue?.contains(.string("integer")) ?? false)
    }

    /// The inclusive range allowed by the schema (open ends get a plausible bound).
    private var bounds: (Double, Double) {
        var low = schema["minimum"]?.doubleValue ?? schema["exclusiveMinimum"].flatMap { $0.doubleValue.map { $0 + (isInteger ? 1 : 0.01) } } ?? 0
        var high = schema["maximum"]?.doubleValue ?? schema["exclusiveMaximum"].flatMap { $0.doubleValue.map { $0 - (isInteger ? 1 : 0.01) } } ?? 0
        if schema["maximum"] == nil && schema["exclusiveMaximum"] == nil {
            high = max(low + 100, (exampleValues.compactMap(\.doubleValue).max() ?? 0) * 3)
        }
        if low > high { low = high }
        return (low, high)
    }

    static let roundish: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 24, 25, 30, 40, 45, 50, 60, 75, 80, 90, 100,
                                     120, 150, 200, 250, 300, 500, 1000]

    private func number(_ style: NumberStyle, random: inout SynthRandom) -> JSONValue? {
        let (low, high) = bounds
        var options = Self.roundish.filter { $0 >= low && $0 <= high }
        if case .word = style { options = options.filter { $0 <= 20 } }
        var value: Double
        let wordsOnly: Bool
        if case .word = style { wordsOnly = true } else { wordsOnly = false }
        if options.isEmpty || (!wordsOnly && random.chance(0.25)) {
            let span = min(high - low, 1000)
            value = (low + Double(random.below(Int(span) + 1))).rounded(.down)
            if value < low { value = low }
        } else {
            value = random.pick(options) ?? low
        }
        let fractional: Bool
        switch style {
        case .currency(_, _, let f), .digits(let f): fractional = f > 0 || random.chance(0.3)
        default: fractional = false
        }
        if !isInteger, fractional, case .currency = style, let cents = random.pick([0.5, 0.99, 0.25, 0.75, 0.49, 0.95]), value + cents <= high {
            value += cents
        }
        return .number(JSONNumber(value))
    }

    private func duration(_ style: DurationStyle, schemaUnit: TimeUnit, random: inout SynthRandom) -> JSONValue? {
        let (low, high) = bounds
        let factor = style.unit.milliseconds / schemaUnit.milliseconds
        let counts = ([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 45, 48, 60, 90, 120] + [random.int(in: 1...60)]).map(Double.init)
        let fitting = counts.map { $0 * factor }.filter { $0 >= low && $0 <= high && (!isInteger || $0 == $0.rounded()) }
        guard let value = random.pick(fitting) else { return nil }
        return .number(JSONNumber(value))
    }
}

/// Well-formed values for the `format`s the validator knows (and a few it may learn).
enum FormatValues {
    static func make(_ format: String, random: inout SynthRandom) -> String? {
        func two(_ n: Int) -> String { (n < 10 ? "0" : "") + String(n) }
        let date = "20\(two(random.int(in: 24...27)))-\(two(random.int(in: 1...12)))-\(two(random.int(in: 1...28)))"
        let time = "\(two(random.int(in: 7...21))):\(two(random.pick([0, 15, 30, 45]) ?? 0)):00"
        let name = GenericText.firstNames[random.below(GenericText.firstNames.count)].lowercased()
        switch format {
        case "date": return date
        case "time": return time + "Z"   // RFC 3339 full-time: the offset is required
        case "date-time": return date + "T" + time + "Z"
        case "email": return name + "@" + (random.pick(["example.com", "example.org", "mail.example.net"]) ?? "example.com")
        case "uri": return "https://" + (random.pick(["example.com", "docs.example.org", "intranet.example.net"]) ?? "example.com") + "/" + GenericText.compound(random: &random)
        case "hostname": return GenericText.compound(random: &random) + ".example.com"
        case "ipv4": return "10.\(random.int(in: 0...255)).\(random.int(in: 0...255)).\(random.int(in: 1...254))"
        case "uuid":
            let hex = Array("0123456789abcdef")
            let groups = [8, 4, 4, 4, 12].map { n in String((0..<n).map { _ in hex[random.below(16)] }) }
            return groups.joined(separator: "-")
        default: return nil
        }
    }
}
