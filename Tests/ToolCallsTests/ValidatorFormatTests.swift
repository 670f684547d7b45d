// The `format` keyword: RFC 3339 dates and times with real calendars, email, uuid, uri.

import Testing
import JSON
import ToolCalls

let formatCases: [KeywordCase] = [
    KeywordCase(name: "date", schema: #"{"format":"date"}"#,
                valid: ["\"2024-02-29\"", "\"2000-02-29\"", "\"2023-12-31\"", "\"0001-01-01\"", "1"],
                invalid: ["\"2023-02-29\"", "\"1900-02-29\"", "\"2023-04-31\"", "\"2023-13-01\"", "\"2023-00-10\"", "\"2023-01-00\"",
                          "\"2023-1-01\"", "\"20230101\"", "\"2023-01-01T00:00:00Z\"", "\"2023-01-0a\"", "\"٢٠٢٣-01-01\""]),
    KeywordCase(name: "time", schema: #"{"format":"time"}"#,
                valid: ["\"08:30:06Z\"", "\"23:59:59.999+05:30\"", "\"00:00:00-12:00\"", "\"23:59:60Z\"", "\"15:59:60-08:00\"", "\"08:30:06z\""],
                invalid: ["\"08:30:06\"", "\"24:00:00Z\"", "\"12:60:00Z\"", "\"12:00:61Z\"", "\"12:00:60Z\"", "\"8:30:06Z\"",
                          "\"08:30:06.Z\"", "\"08:30:06+5:30\"", "\"08:30:06+05:60\"", "\"08:30Z\""]),
    KeywordCase(name: "date-time", schema: #"{"format":"date-time"}"#,
                valid: ["\"2024-02-29T12:00:00Z\"", "\"1985-04-12T23:20:50.52Z\"", "\"1996-12-19T16:39:57-08:00\"", "\"1998-12-31T23:59:60Z\"", "\"2024-01-01t00:00:00z\""],
                invalid: ["\"2023-02-29T12:00:00Z\"", "\"2024-01-01 12:00:00Z\"", "\"2024-01-01T12:00:00\"", "\"2024-01-01\"", "\"2024-01-01T\"", "\"1998-12-31T23:58:60Z\""]),
    KeywordCase(name: "email", schema: #"{"format":"email"}"#,
                valid: ["\"joe.bloggs@example.com\"", "\"a+tag@sub.example.co\"", "\"x@localhost\"", "\"o'neil@example.org\""],
                invalid: ["\"joe\"", "\"@example.com\"", "\"joe@\"", "\".joe@example.com\"", "\"joe.@example.com\"", "\"jo..e@example.com\"",
                          "\"joe@-example.com\"", "\"joe@exa mple.com\"", "\"joe@example..com\"", "\"jöe@example.com\""]),
    KeywordCase(name: "uuid", schema: #"{"format":"uuid"}"#,
                valid: ["\"2eb8aa08-aa98-11ea-b4aa-73b441d16380\"", "\"2EB8AA08-AA98-11EA-B4AA-73B441D16380\"", "\"00000000-0000-0000-0000-000000000000\""],
                invalid: ["\"2eb8aa08-aa98-11ea-b4aa-73b441d1638\"", "\"2eb8aa08aa9811eab4aa73b441d16380\"", "\"2eb8aa08-aa98-11ea-b4aa_73b441d16380\"", "\"2eb8aa08-aa98-11ea-b4aa-73b441d1638g\""]),
    KeywordCase(name: "uri", schema: #"{"format":"uri"}"#,
                valid: ["\"https://example.com/a/b?c=d#e\"", "\"mailto:joe@example.com\"", "\"urn:isbn:0451450523\"", "\"http://[::1]:80/%20x\"", "\"a.b+c-d:x\""],
                invalid: ["\"//example.com/a\"", "\"/relative/path\"", "\"example.com\"", "\"http://exa mple.com\"", "\"http://example.com/%zz\"", "\"1http://x\"", "\"http://例え.jp\"", "\":nothing\""]),
]

@Suite struct ValidatorFormatTests {
    @Test(arguments: formatCases)
    func format(_ testCase: KeywordCase) throws {
        let validator = try SchemaValidator(schema: json(testCase.schema))
        for text in testCase.valid {
            let issues = validator.validate(try json(text))
            #expect(issues.isEmpty, "\(testCase.name): \(text) should be valid: \(issues)")
        }
        for text in testCase.invalid {
            #expect(!validator.validate(try json(text)).isEmpty, "\(testCase.name): \(text) should be invalid")
        }
    }

    @Test func formatMessage() throws {
        let validator = try SchemaValidator(schema: json(#"{"format":"date"}"#))
        #expect(validator.validate(.string("2023-02-29")).map(\.message) == ["\"2023-02-29\" is not a valid date"])
    }
}
