// The hand-written JSON building blocks, as text (identical to grammars/json-primitives.gbnf,
// which a test checks byte for byte) and as the grammar rules the compiler composes.

import Grammar

/// The JSON primitives every compiled grammar is built from.
public enum JSONPrimitives {
    /// The exact text of `grammars/json-primitives.gbnf`.
    public static let text = #"""
# JSON building blocks for grammars compiled from JSON Schemas (Sources/SchemaGrammar).
# Compact form: no whitespace outside strings. Numbers are canonical: no leading zeros, no -0,
# no trailing zeros in fractions, lower-case exponent without "+"; at most 15 integer digits.
# The compiler keeps a byte-identical copy of this file (JSONPrimitives.text) and builds
# exactly these rules.

json-char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
json-string ::= "\"" json-char{0,256} "\""
json-integer ::= "0" | "-"? [1-9] [0-9]{0,14}
json-fraction ::= "." [0-9]{0,14} [1-9]
json-exponent ::= "e" "-"? [1-9] [0-9]{0,2}
json-number ::= json-integer json-fraction? json-exponent? | "-0" json-fraction json-exponent?
json-boolean ::= "true" | "false"
json-null ::= "null"
json-array ::= "[" (json-value ("," json-value){0,63})? "]"
json-member ::= json-string ":" json-value
json-object ::= "{" (json-member ("," json-member){0,31})? "}"
json-value ::= json-object | json-array | json-string | json-number | json-boolean | json-null

"""#

    /// Rule names, as in the file.
    static let char = "json-char"
    static let string = "json-string"
    static let integer = "json-integer"
    static let fraction = "json-fraction"
    static let exponent = "json-exponent"
    static let number = "json-number"
    static let boolean = "json-boolean"
    static let null = "json-null"
    static let array = "json-array"
    static let member = "json-member"
    static let object = "json-object"
    static let value = "json-value"

    /// The string length built into `json-string`.
    static let stringMaxLength = 256

    /// The rules of `text`, in file order.
    public static let rules: [GrammarRule] = [
        GrammarRule(name: char, body: .choice([
            .charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0x00...0x1F], negated: true)),
            .sequence([.literal("\\"), .choice([
                .charClass(CharClass(ranges: [0x22...0x22, 0x5C...0x5C, 0x2F...0x2F, 0x62...0x62, 0x66...0x66,
                                              0x6E...0x6E, 0x72...0x72, 0x74...0x74])),
                .sequence([.literal("u"), .repeat(hexDigit, min: 4, max: 4)]),
            ])]),
        ])),
        GrammarRule(name: string, body: .sequence([
            .literal("\""), .repeat(.ruleRef(char), min: 0, max: stringMaxLength), .literal("\""),
        ])),
        GrammarRule(name: integer, body: .choice([
            .literal("0"),
            .sequence([.repeat(.literal("-"), min: 0, max: 1), nonZeroDigit, .repeat(digit, min: 0, max: 14)]),
        ])),
        GrammarRule(name: fraction, body: .sequence([.literal("."), .repeat(digit, min: 0, max: 14), nonZeroDigit])),
        GrammarRule(name: exponent, body: .sequence([
            .literal("e"), .repeat(.literal("-"), min: 0, max: 1), nonZeroDigit, .repeat(digit, min: 0, max: 2),
        ])),
        GrammarRule(name: number, body: .choice([
            .sequence([.ruleRef(integer), .repeat(.ruleRef(fraction), min: 0, max: 1), .repeat(.ruleRef(exponent), min: 0, max: 1)]),
            .sequence([.literal("-0"), .ruleRef(fraction), .repeat(.ruleRef(exponent), min: 0, max: 1)]),
        ])),
        GrammarRule(name: boolean, body: .choice([.literal("true"), .literal("false")])),
        GrammarRule(name: null, body: .literal("null")),
        GrammarRule(name: array, body: .sequence([
            .literal("["),
            .repeat(.sequence([.ruleRef(value), .repeat(.sequence([.literal(","), .ruleRef(value)]), min: 0, max: 63)]), min: 0, max: 1),
            .literal("]"),
        ])),
        GrammarRule(name: member, body: .sequence([.ruleRef(string), .literal(":"), .ruleRef(value)])),
        GrammarRule(name: object, body: .sequence([
            .literal("{"),
            .repeat(.sequence([.ruleRef(member), .repeat(.sequence([.literal(","), .ruleRef(member)]), min: 0, max: 31)]), min: 0, max: 1),
            .literal("}"),
        ])),
        GrammarRule(name: value, body: .choice([
            .ruleRef(object), .ruleRef(array), .ruleRef(string), .ruleRef(number), .ruleRef(boolean), .ruleRef(null),
        ])),
    ]

    /// The names of `rules`.
    static let names: Set<String> = Set(rules.map(\.name))

    static let digit = GrammarExpr.charClass(CharClass(ranges: [0x30...0x39]))
    static let nonZeroDigit = GrammarExpr.charClass(CharClass(ranges: [0x31...0x39]))
    static let hexDigit = GrammarExpr.charClass(CharClass(ranges: [0x30...0x39, 0x61...0x66, 0x41...0x46]))
}
