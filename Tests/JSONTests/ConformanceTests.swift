// RFC 8259 conformance tables: documents that must parse and documents that must be rejected.

import Testing
import JSON

/// Documents every conforming parser accepts.
let acceptedDocuments: [String] = [
    "null", "true", "false", "0", "-0", "1", "-1", "123456789012345678901234567890",
    "0.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "1.25E-10", "\"\"", "\"abc\"",
    "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\u0041\"", "\"\\u00e9\"", "\"\\uD83D\\uDE00\"",
    "\"\\u0000\"", "\"é 日本 😀\"", "\"\u{7F}\"", "[]", "{}", "[1,2,3]", "[[],[[]]]",
    "{\"a\":1,\"b\":[true,false,null]}", " \t\r\n[ 1 , 2 ]\n ", "{\"\":0}",
    "{\"a\":{\"a\":{\"a\":1}}}", "{\"é\":1,\"e\\u0301\":2}", "[\"/\"]", "1.0e0",
]

/// Documents that break RFC 8259, with a fragment of the expected message.
let rejectedDocuments: [(text: String, message: String)] = [
    ("", "expected a JSON value, found end of input"),
    ("   ", "expected a JSON value"),
    ("[1,]", "expected a JSON value"),
    ("{\"a\":1,}", "expected '\"' to begin an object key"),
    ("[1 2]", "expected ',' or ']' after array element"),
    ("{\"a\":1 \"b\":2}", "expected ',' or '}' after object member"),
    ("{\"a\" 1}", "expected ':' after object key"),
    ("{a:1}", "expected '\"' to begin an object key"),
    ("{'a':1}", "expected '\"' to begin an object key"),
    ("['a']", "expected a JSON value"),
    ("[1] [2]", "trailing characters after the JSON value"),
    ("1 2", "trailing characters"),
    ("nul", "expected 'null'"),
    ("True", "expected a JSON value"),
    ("NaN", "expected a JSON value"),
    ("Infinity", "expected a JSON value"),
    ("-Infinity", "expected a digit after '-'"),
    ("-", "expected a digit after '-'"),
    ("01", "leading zeros"),
    ("-01", "leading zeros"),
    ("1.", "expected a digit after the decimal point"),
    (".5", "expected a JSON value"),
    ("+1", "expected a JSON value"),
    ("1e", "expected a digit in the exponent"),
    ("1e+", "expected a digit in the exponent"),
    ("0x10", "trailing characters"),
    ("1.5.2", "trailing characters"),
    ("\"abc", "unterminated string"),
    ("\"abc\\", "unterminated string"),
    ("\"\\q\"", "invalid escape '\\q'"),
    ("\"\\x41\"", "invalid escape '\\x'"),
    ("\"\\u12G4\"", "invalid escape '\\u12G4'"),
    ("\"\\u12\"", "invalid escape '\\u12'"),
    ("\"\\uD83D\"", "lone surrogate \\uD83D"),
    ("\"\\uDE00\"", "lone surrogate \\uDE00"),
    ("\"\\uD83D\\u0041\"", "lone surrogate \\uD83D"),
    ("\"\\uD83Dx\"", "lone surrogate"),
    ("\"a\nb\"", "control character U+000A"),
    ("\"\t\"", "control character U+0009"),
    ("{\"a\":1,\"a\":2}", "duplicate key \"a\""),
    ("[1,,2]", "expected a JSON value"),
    ("[,1]", "expected a JSON value"),
    ("{,}", "expected '\"' to begin an object key"),
    ("[1", "expected ',' or ']' after array element, found end of input"),
    ("{\"a\":1", "expected ',' or '}' after object member, found end of input"),
    ("/* c */ 1", "expected a JSON value"),
    ("1 // c", "trailing characters"),
    ("\u{FEFF}1", "expected a JSON value"),
    ("[1]\u{0}", "trailing characters"),
    ("\u{A0}1", "expected a JSON value"),
]

@Suite struct ConformanceTests {
    @Test(arguments: acceptedDocuments)
    func accepts(_ text: String) throws {
        _ = try JSONParser.parse(text)
    }

    @Test func rejectTableIsLargeEnough() {
        #expect(rejectedDocuments.count >= 40)
    }

    @Test(arguments: rejectedDocuments.indices)
    func rejects(_ index: Int) {
        let (text, fragment) = rejectedDocuments[index]
        do {
            let value = try JSONParser.parse(text)
            Issue.record("accepted \(text.debugDescription) as \(value)")
        } catch {
            #expect(error.message.contains(fragment), "\(text.debugDescription): \(error)")
        }
    }

    @Test func rejectsInvalidUTF8() {
        let cases: [(bytes: [UInt8], offset: Int)] = [
            ([0x22, 0xFF, 0x22], 1),                         // never valid
            ([0x22, 0xC0, 0xAF, 0x22], 1),                   // overlong '/'
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1),             // overlong 3-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),             // encoded surrogate
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),       // above U+10FFFF
            ([0x22, 0x61, 0xC3, 0x22], 2),                   // truncated sequence
            ([0x22, 0x61, 0x62, 0x80, 0x22], 3),             // stray continuation
            ([0x22, 0xE2, 0x82], 1),                         // truncated at the end
        ]
        for (bytes, offset) in cases {
            #expect(throws: JSONParseError.invalidUTF8(at: JSONLocation(offset: offset, line: 1, column: offset + 1))) {
                try JSONParser.parse(bytes: bytes)
            }
        }
    }

    @Test func acceptsValidMultibyteUTF8Bytes() throws {
        let bytes: [UInt8] = [0x22, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0x22]
        #expect(try JSONParser.parse(bytes: bytes) == .string("é€😀"))
    }
}
