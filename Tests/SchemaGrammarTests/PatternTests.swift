// `pattern`: the ECMA-262 subset, JSON escaping of the decoded characters, anchoring, bounds.

import SchemaGrammar
import Testing

@Suite struct PatternTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"string","pattern":"^ORD-[0-9]{4,8}$"}"#,
              accept: [#""ORD-1234""#, #""ORD-12345678""#], reject: [#""ORD-123""#, #""ORD-123456789""#, #""xORD-1234""#, #""ORD-1234x""#]),
        .init(#"{"type":"string","pattern":"^[a-z][a-z0-9-]{1,40}$"}"#,
              accept: [#""api""#, #""a-1""#], reject: [#""a""#, #""1ab""#, #""Ab""#]),
        // Unanchored: anything may precede and follow.
        .init(#"{"type":"string","pattern":"ab+c"}"#, accept: [#""abc""#, #""xxabbbcyy""#, #""\nabc""#], reject: [#""ac""#, #""abx""#]),
        .init(#"{"type":"string","pattern":"^ab"}"#, accept: [#""ab""#, #""abzz""#], reject: [#""zab""#]),
        .init(#"{"type":"string","pattern":"yz$"}"#, accept: [#""yz""#, #""xxyz""#], reject: [#""yzx""#]),
        .init(#"{"type":"string","pattern":"^(?:cat|dog)s?$"}"#, accept: [#""cat""#, #""dogs""#], reject: [#""cow""#, #""catss""#]),
        .init(#"{"type":"string","pattern":"^(ab|c)*$"}"#, accept: [#""""#, #""abcab""#, #""ccc""#], reject: [#""abb""#]),
        .init(#"{"type":"string","pattern":"^\\d\\w\\s\\D\\W\\S$"}"#, accept: [#""1_ x!y""#, #""9a\tz-Z""#], reject: [#""a_ x!y""#, #""1_ 1!y""#]),
        .init(#"{"type":"string","pattern":"^[^a-c\\d]$"}"#, accept: [#""d""#, #""\"""#, #""\\""#, #""\n""#, #""é""#],
              reject: [#""a""#, #""5""#, #""""#]),
        .init(#"{"type":"string","pattern":"^.$"}"#, accept: [#""x""#, #""\"""#, #""😀""#, #""\u0001""#, #""\u001f""#, #""\t""#, #""\\""#],
              reject: [#""\n""#, #""\r""#, #""xy""#, #""\u0041""#, #""\u001F""#, #""\u0009""#, #""\u000a""#]),
        // A literal quote or backslash in the pattern is escaped in the JSON text.
        .init(#"{"type":"string","pattern":"^a\"b\\\\c$"}"#, accept: [#""a\"b\\c""#], reject: [#""a"b\c""#, #""a\"b\c""#]),
        .init(#"{"type":"string","pattern":"^\\.\\*\\x41\\u0042\\n$"}"#, accept: [#"".*AB\n""#], reject: [#""x*AB\n""#]),
        .init(#"{"type":"string","pattern":"^a{3}b{2,}c{1,2}?$"}"#, accept: [#""aaabbc""#, #""aaabbbbcc""#], reject: [#""aabbc""#, #""aaabc""#]),
        .init(#"{"type":"string","pattern":"^x+?y*?$"}"#, accept: [#""x""#, #""xxyy""#], reject: [#""y""#]),
        .init(#"{"type":"string","pattern":"^[-a]{2}[a-]$"}"#, accept: [#""-a-""#, #""aaa""#], reject: [#""abc""#]),
        .init(#"{"type":"string","pattern":"^a{,2}$"}"#, accept: [#""a{,2}""#], reject: [#""aa""#]),
        // Unbounded repetitions are capped by maxLength.
        .init(#"{"type":"string","pattern":"^[a-z]+$","maxLength":4}"#, accept: [#""abcd""#], reject: [#""abcde""#, #""""#]),
        .init(#"{"type":"string","pattern":"^[a-z]+$","minLength":1,"maxLength":4}"#, accept: [#""a""#], reject: [#""""#]),
        // minLength raises repetition minima (or the free prefix) to fit.
        .init(#"{"type":"string","pattern":"^[a-z]+$","minLength":3}"#, accept: [#""abc""#, #""abcdef""#], reject: [#""ab""#]),
        .init(#"{"type":"string","pattern":"^x(ab)*$","minLength":4,"maxLength":5}"#, accept: [#""xabab""#], reject: [#""xab""#, #""xababab""#, #""x""#]),
        .init(#"{"type":"string","pattern":"^a?$","minLength":1}"#, accept: [#""a""#], reject: [#""""#]),
        .init(#"{"type":"string","pattern":"@","minLength":3,"maxLength":9}"#, accept: [#""ab@""#, #""ab@cd""#], reject: [#""@""#, #""a@""#]),
        .init(#"{"type":"string","format":"uri","minLength":12}"#, accept: [#""x:abcdefghij""#], reject: [#""https://a.b""#]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    @Test func defaultBoundKeepsPatternStringsFinite() throws {
        var options = SchemaCompilerOptions()
        options.defaultMaxStringLength = 6
        try check(.init(#"{"type":"string","pattern":"^a*$"}"#, accept: [#""aaaaaa""#], reject: [#""aaaaaaa""#]), options: options)
        try check(.init(#"{"type":"string","pattern":"b"}"#, accept: [#""xxbxx""#, #""b""#], reject: [#""xxxbxxx""#]), options: options)
    }

    static let rejected: [(String, String)] = [
        (#"(a)\\1"#, "backreferences are not supported"),
        (#"(?<n>a)\\k<n>"#, "named backreferences are not supported"),
        (#"a(?=b)"#, "lookahead assertions are not supported"),
        (#"a(?!b)"#, "lookahead assertions are not supported"),
        (#"(?<=a)b"#, "lookbehind assertions are not supported"),
        (#"(?<!a)b"#, "lookbehind assertions are not supported"),
        (#"\\bword"#, "word boundary \\b is not supported"),
        (#"\\p{L}"#, "Unicode property escapes \\p are not supported"),
        (#"(ab"#, "missing ')'"),
        (#"ab)"#, "unbalanced ')' at offset 2"),
        (#"[ab"#, "missing ']'"),
        (#"*a"#, "nothing to repeat before '*'"),
        (#"a|{2}"#, "nothing to repeat before '{'"),
        (#"a**"#, "nothing to repeat (double quantifier)"),
        (#"(?i)a"#, "unsupported group syntax '(?'"),
        (#"[]"#, "a character class matches nothing"),
        (#"\\q"#, "unknown escape \\q"),
        (#"a{3,2}"#, "quantifier {3,2} is out of order"),
        (#"[z-a]"#, "range out of order in character class"),
        (#"a^b"#, "anchors are supported only at the start and end of a top-level alternative"),
        (#"(?:^a|b)c"#, "anchors are supported only at the start and end of a top-level alternative"),
    ]

    @Test(arguments: rejected) func unsupportedFeaturesAreNamed(_ pattern: String, _ reason: String) throws {
        let error = try compileError(#"{"properties":{"code":{"type":"string","pattern":"\#(pattern)"}}}"#)
        #expect(error == .invalidPattern(pointer: "/properties/code/pattern", reason: reason))
    }

    @Test func patternThatCannotFitBoundsIsReported() throws {
        #expect(try compileError(#"{"type":"string","pattern":"^[a-z]{5}$","maxLength":3}"#)
            == .unsupportedKeyword(keyword: "maxLength", pointer: "/maxLength"))
        #expect(try compileError(#"{"type":"string","pattern":"^(ab|c)$","minLength":2}"#)
            == .unsupportedKeyword(keyword: "minLength", pointer: "/minLength"))
    }
}
