// Strings: escapes, `minLength`/`maxLength` in characters, the default bound, `format`.

import Grammar
import SchemaGrammar
import Testing

@Suite struct StringTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"string","maxLength":3}"#,
              accept: [#""""#, #""ab\n""#, #""abc""#, #""\u0041\\\"""#, #""é€😀""#],
              reject: [#""abcd""#, #""ab\n\t""#, "\"a\nb\"", "\"\u{1}\"", #""\q""#, #""\u12""#, #""a"#]),
        .init(#"{"type":"string","minLength":2,"maxLength":2}"#,
              accept: [#""ab""#, #""\"\"""#, #""\/x""#], reject: [#""a""#, #""abc""#, #""\""#]),
        .init(#"{"type":"string","minLength":5}"#,
              accept: [#""hello""#, "\"" + String(repeating: "x", count: 256) + "\""],
              reject: [#""hell""#, "\"" + String(repeating: "x", count: 257) + "\""]),
        .init(#"{"type":"string"}"#,
              accept: ["\"" + String(repeating: "y", count: 256) + "\"", #""\b\f\r\t\u001F""#],
              reject: ["\"" + String(repeating: "y", count: 257) + "\""]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    @Test func defaultMaximumComesFromOptions() throws {
        var options = SchemaCompilerOptions()
        options.defaultMaxStringLength = 4
        try check(.init(#"{"type":"string"}"#, accept: [#""abcd""#], reject: [#""abcde""#]), options: options)
    }

    @Test func hugeLengthsAreClampedOrRejected() throws {
        let grammar = try compile(#"{"type":"string","maxLength":1e12}"#)
        #expect(grammar.rules.first?.body == .sequence([.literal("\""), .repeat(.ruleRef("json-char"), min: 0, max: 100_000), .literal("\"")]))
        #expect(try compileError(#"{"type":"string","minLength":200000}"#)
            == .invalidSchema(pointer: "/minLength", reason: "minLength above 100000 is not supported"))
        #expect(try compileError(#"{"type":"string","pattern":"^((((a{9999}){9999}){9999}){9999}){9999}$"}"#) == nil)
    }

    @Test func impossibleLengthsAreInvalid() throws {
        let error = try compileError(#"{"type":"string","minLength":300}"#)
        #expect(error == .invalidSchema(pointer: "", reason: "minLength 300 exceeds the maximum length 256"))
    }
}

@Suite struct FormatTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"string","format":"date"}"#,
              accept: [#""2024-02-29""#, #""1999-12-31""#, #""2024-04-30""#, #""0001-01-01""#],
              reject: [#""2024-13-01""#, #""2024-04-31""#, #""2024-02-30""#, #""2024-1-01""#, #""2024-00-10""#, #""24-01-01""#]),
        .init(#"{"type":"string","format":"time"}"#,
              accept: [#""23:59:59Z""#, #""00:00:00+01:00""#, #""12:30:05.123-05:30""#],
              reject: [#""23:59:60Z""#, #""12:00:60+02:00""#, #""24:00:00Z""#, #""12:60:00Z""#, #""12:00:00""#, #""12:00Z""#, #""12:00:00.Z""#]),
        .init(#"{"type":"string","format":"date-time"}"#,
              accept: [#""2024-02-29T13:45:00Z""#, #""2024-01-01T00:00:00.5+02:00""#],
              reject: [#""2024-02-29 13:45:00Z""#, #""2024-02-29T13:45:00""#, #""2024-02-29""#]),
        .init(#"{"type":"string","format":"email"}"#,
              accept: [#""a@b.co""#, #""first.last+tag@mail.example.org""#, #""o'brien@x-y.io""#],
              reject: [#""a@b""#, #""@b.co""#, #""a b@c.de""#, #""a..b@c.de""#, #""a@-b.co""#, #""a@b.c""#]),
        .init(#"{"type":"string","format":"uuid"}"#,
              accept: [#""123e4567-e89b-12d3-a456-426614174000""#, #""123E4567-E89B-12D3-A456-426614174000""#],
              reject: [#""123e4567e89b12d3a456426614174000""#, #""123e4567-e89b-12d3-a456-42661417400""#, #""g23e4567-e89b-12d3-a456-426614174000""#]),
        .init(#"{"type":"string","format":"uri"}"#,
              accept: [#""https://example.com/a?b=c#d""#, #""mailto:x@y.z""#, #""urn:isbn:0451450523""#, #""http://h/%20x""#],
              reject: [#""example.com""#, #""http://a b""#, #""1http://x""#, #""http://x/%2""#, #""http:""#]),
        .init(#"{"type":"string","format":"date","maxLength":10}"#, accept: [#""2024-01-01""#]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    @Test func unknownFormatIsUnsupported() throws {
        let error = try compileError(#"{"type":"string","format":"ipv4"}"#)
        #expect(error == .unsupportedKeyword(keyword: "format", pointer: "/format"))
    }

    @Test func formatThatCannotFitMaxLengthIsReported() throws {
        let error = try compileError(#"{"type":"string","format":"date","maxLength":8}"#)
        #expect(error == .unsupportedKeyword(keyword: "maxLength", pointer: "/maxLength"))
    }
}
