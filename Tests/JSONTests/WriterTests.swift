// The canonical writer: exact output for escapes, and parse/write round trips.

import Testing
import JSON

@Suite struct WriterTests {
    @Test func compactHasNoWhitespaceAndKeepsOrder() throws {
        let value = try JSONParser.parse(" { \"b\" : [ 1 , 2.50 , { } ] , \"a\" : null , \"c\" : [ ] } ")
        #expect(JSONWriter.compact(value) == #"{"b":[1,2.50,{}],"a":null,"c":[]}"#)
    }

    @Test func escapesMinimally() {
        let text = "q\" b\\ n\n r\r t\t b\u{8} f\u{C} nul\u{0} us\u{1F} del\u{7F} / é 😀"
        let expected = #""q\" b\\ n\n r\r t\t b\b f\f nul\u0000 us\u001f del"# + "\u{7F} / é 😀\""
        #expect(JSONWriter.compact(.string(text)) == expected)
        #expect(JSONWriter.quoted("\u{1B}") == #""\u001b""#)
    }

    @Test func canonicalisesEscapedInput() throws {
        let value = try JSONParser.parse(#"["\/","\u0041","\u00E9","\uD83D\uDE00","\u001B"]"#)
        #expect(JSONWriter.compact(value) == #"["/","A","é","😀","\u001b"]"#)
    }

    @Test(arguments: [
        "null", "true", "[1,-0,1e+5,0.000]", #"{"a":{"b":{"c":[]}}}"#, #"{"":""}"#,
        #"["\"\\\n\r\t\b\f\u0001"]"#, #"{"é":"日本","z":[null,false]}"#, "12345678901234567890123",
    ])
    func roundTripsCanonicalText(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.compact(value) == text)
        #expect(try JSONParser.parse(JSONWriter.compact(value)) == value)
    }

    @Test func roundTripsEveryControlCharacter() throws {
        let text = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        let written = JSONWriter.compact(.string(text))
        #expect(try JSONParser.parse(written) == .string(text))
    }

    @Test func descriptionIsCompactForm() {
        let value: JSONValue = .object([(key: "tool", value: .string("x"))])
        #expect("\(value)" == #"{"tool":"x"}"#)
    }
}
