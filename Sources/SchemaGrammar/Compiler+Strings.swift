// `string` with `minLength`, `maxLength`, `pattern` and `format`.
//
// Lengths count decoded characters (code points): an escape sequence is one character. Every
// string is bounded, by `maxLength` or the default maximum. A pattern or format is fitted to
// explicit length bounds by capping its unbounded repetitions and raising repetition minima;
// when that cannot be shown to suffice, compilation fails naming the bound (the grammar does
// not intersect a regex with a length counter in general).

import Grammar
import JSON

extension Compiler {
    /// The grammar of the strings `schema` admits, quotes included.
    /// `name` is the rule being built (a grounded string's text rule is named after it).
    mutating func compileString(_ schema: JSONValue, at pointer: String, name: String) throws(SchemaCompileError) -> GrammarExpr {
        let minLength = try length(schema, "minLength", at: pointer)
        let maxLength = try length(schema, "maxLength", at: pointer)
        let low = minLength ?? 0
        let high = maxLength ?? options.defaultMaxStringLength
        if low > high {
            throw .invalidSchema(pointer: pointer, reason: "minLength \(low) exceeds the maximum length \(high)")
        }
        if schema["pattern"] != nil && schema["format"] != nil {
            throw .unsupportedKeyword(keyword: "pattern", pointer: JSONPointer.appending(pointer, "pattern"))
        }
        let regex: (source: String, pointer: String)?
        if let pattern = schema["pattern"] {
            let patternPointer = JSONPointer.appending(pointer, "pattern")
            guard let text = pattern.stringValue else {
                throw .invalidSchema(pointer: patternPointer, reason: "pattern must be a string")
            }
            regex = (text, patternPointer)
        } else if let format = schema["format"] {
            let formatPointer = JSONPointer.appending(pointer, "format")
            guard let name = format.stringValue else {
                throw .invalidSchema(pointer: formatPointer, reason: "format must be a string")
            }
            guard let source = StringFormats.patterns[name] else {
                throw .unsupportedKeyword(keyword: "format", pointer: formatPointer)
            }
            regex = (source, formatPointer)
        } else {
            regex = nil
        }

        let grounded = schema[Self.fromInputKeyword] == .bool(true)
        guard let regex else {
            let body = GrammarExpr.repeat(.ruleRef(JSONPrimitives.char), min: low, max: high)
            if grounded { return groundedString(body, at: pointer, name: name) }
            if low == 0 && high == JSONPrimitives.stringMaxLength { return .ruleRef(JSONPrimitives.string) }
            return .sequence([.literal("\""), body, .literal("\"")])
        }
        let compiled: CompiledPattern
        do {
            compiled = try RegexGrammar.compile(regex.source, budget: high, minimum: low)
        } catch {
            throw .invalidPattern(pointer: regex.pointer, reason: error.reason)
        }
        if maxLength != nil && compiled.maxLength > high {
            throw .unsupportedKeyword(keyword: "maxLength", pointer: JSONPointer.appending(pointer, "maxLength"))
        }
        if minLength != nil && compiled.minLength < low {
            throw .unsupportedKeyword(keyword: "minLength", pointer: JSONPointer.appending(pointer, "minLength"))
        }
        if grounded { return groundedString(simplified(compiled.body), at: pointer, name: name) }
        return simplified(.sequence([.literal("\""), compiled.body, .literal("\"")]))
    }

    /// A string whose text between the quotes is its own rule, marked grounded: the matcher knows the
    /// span starts when that rule is entered and ends when it returns (the quotes stay outside).
    private mutating func groundedString(_ body: GrammarExpr, at pointer: String, name: String) -> GrammarExpr {
        let span = namedRule(name + "-text", at: pointer, body: body)
        if case .ruleRef(let name) = span { groundedNames.insert(name) }
        return .sequence([.literal("\""), span, .literal("\"")])
    }

    /// Largest count a grammar repetition gets (GBNF's own limit): larger maxima are lowered
    /// to it, larger minima are rejected.
    static let largestCount = 100_000

    /// A non-negative integer keyword (`minLength`, `maxItems`, …), or nil when absent.
    func length(_ schema: JSONValue, _ keyword: String, at pointer: String) throws(SchemaCompileError) -> Int? {
        guard let value = schema[keyword] else { return nil }
        let keywordPointer = JSONPointer.appending(pointer, keyword)
        if let d = value.doubleValue, d.isFinite, d == d.rounded(), d > Double(Self.largestCount) {
            if keyword.hasPrefix("max") { return Self.largestCount }
            throw .invalidSchema(pointer: keywordPointer, reason: "\(keyword) above \(Self.largestCount) is not supported")
        }
        guard let n = value.intValue, n >= 0 else {
            throw .invalidSchema(pointer: keywordPointer, reason: "\(keyword) must be a non-negative integer")
        }
        return n
    }
}

/// The supported `format` values, as anchored patterns over the decoded string.
enum StringFormats {
    static let date = #"\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2\d))"#
    /// Seconds 00–59: RFC 3339 allows a leap second 60 only at 23:59:60 UTC, which no offset-free
    /// pattern can check, so the grammar leaves it out (it produces a subset of valid times).
    static let time = #"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"#
    static let emailAtom = #"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"#
    /// Domain labels of at most 40 characters, so four labels and a TLD stay within 253 bytes.
    static let label = #"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?"#
    static let uriCharacter = #"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})"#

    /// Format name → pattern. `date` admits February 29 in every year (leap years are not checked).
    static let patterns: [String: String] = [
        "date": "^\(date)$",
        "time": "^\(time)$",
        "date-time": "^\(date)T\(time)$",
        "uuid": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        // Local part: at most three dot-separated atoms of up to 20 characters (≤ 62 bytes, within 64).
        "email": "^\(emailAtom){1,20}(?:\\.\(emailAtom){1,20}){0,2}@(?:\(label)\\.){1,4}[A-Za-z]{2,24}$",
        "uri": "^[A-Za-z][A-Za-z0-9+.-]{0,15}:\(uriCharacter)+$",
    ]
}
