// Values, locations, limits and the exact wording of errors.

import Testing
import JSON

@Suite struct ParserTests {
    @Test func parsesNestedValuesInOrder() throws {
        let value = try JSONParser.parse(#"{"z":1,"a":[true,null,"x"],"m":{"k":-2.5e3}}"#)
        let expected: JSONValue = .object([
            (key: "z", value: .number(JSONNumber(literal: "1"))),
            (key: "a", value: .array([.bool(true), .null, .string("x")])),
            (key: "m", value: .object([(key: "k", value: .number(JSONNumber(literal: "-2.5e3")))])),
        ])
        #expect(value == expected)
        #expect(value.objectMembers?.map(\.key) == ["z", "a", "m"])
    }

    @Test func keepsNumberLiteralText() throws {
        for literal in ["123456789012345678901234567890", "1.50", "1E+2", "-0", "0.1e-7"] {
            guard case .number(let number) = try JSONParser.parse(literal) else {
                Issue.record("not a number: \(literal)")
                continue
            }
            #expect(number.text == literal)
        }
    }

    @Test func decodesEscapes() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00\u0000""#)
        #expect(value == .string("a\"b\\c/d\u{8}\u{C}\n\r\té😀\u{0}"))
    }

    @Test func reportsLineAndColumn() {
        let text = "{\n  \"a\": 1\n  \"b\": 2\n}"
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
        do {
            _ = try JSONParser.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.location == JSONLocation(offset: 13, line: 3, column: 3))
            #expect(error.description == "3:3: expected ',' or '}' after object member, found '\"'")
        }
    }

    @Test func columnsCountCodePoints() {
        do {
            _ = try JSONParser.parse("[\"日本\" 1]")
            Issue.record("expected an error")
        } catch {
            #expect(error.location?.column == 7)
            #expect(error.location?.offset == 10)
        }
    }

    @Test func exampleMessageFromTheBrief() {
        do {
            _ = try JSONParser.parse(#"{"tool":"x","a":1 2}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("1:19: expected ',' or '}' after object member"))
        }
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(ok)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.nestingTooDeep(limit: 64, at: JSONLocation(offset: 64, line: 1, column: 65))) {
            try JSONParser.parse(deep)
        }
        let objects = String(repeating: "{\"a\":", count: 4) + "1" + String(repeating: "}", count: 4)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(objects, limits: JSONLimits(maxDepth: 3)) }
        _ = try JSONParser.parse(objects, limits: JSONLimits(maxDepth: 4))
    }

    @Test func veryDeepInputFailsCleanly() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.nestingTooDeep(limit: 64, at: JSONLocation(offset: 64, line: 1, column: 65))) {
            try JSONParser.parse(deep)
        }
    }

    @Test func sizeLimit() throws {
        let text = "\"" + String(repeating: "a", count: 98) + "\""
        _ = try JSONParser.parse(text, limits: JSONLimits(maxBytes: 100))
        #expect(throws: JSONParseError.documentTooLarge(byteCount: 101, limit: 100)) {
            try JSONParser.parse(text + " ", limits: JSONLimits(maxBytes: 100))
        }
        let big = [UInt8](repeating: 0x20, count: (1 << 20) + 1)
        do {
            _ = try JSONParser.parse(bytes: big)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "document larger than 1048576 bytes")
        }
    }

    @Test func duplicateKeysInLargeObjects() {
        let members = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(throws: JSONParseError.self) { try JSONParser.parse("{\(members),\"k7\":0}") }
        #expect(throws: Never.self) { try JSONParser.parse("{\(members),\"k40\":0}") }
        // Canonically equivalent but different code points: distinct keys.
        #expect(throws: Never.self) { try JSONParser.parse("{\(members),\"é\":1,\"e\u{301}\":2}") }
    }

    @Test func duplicateKeyMessage() {
        do {
            _ = try JSONParser.parse(#"{"a":1,"a":2}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "1:8: duplicate key \"a\"")
        }
    }

    @Test func invalidUTF8Message() {
        var bytes = Array(#"{"key": "abcd"#.utf8)
        bytes.append(0xFF)
        bytes.append(contentsOf: Array("\"}".utf8))
        do {
            _ = try JSONParser.parse(bytes: bytes)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "invalid UTF-8 at byte 13")
        }
    }

    @Test func parsesNonContiguousCollections() throws {
        let bytes = Array("[1, \"two\"]".utf8).lazy.map { $0 }
        #expect(try JSONParser.parse(bytes: bytes) == .array([.number(JSONNumber(1)), .string("two")]))
    }

    @Test func literalMismatchShowsTheWord() {
        do {
            _ = try JSONParser.parse("[nul]")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "1:2: expected 'null', found 'nul'")
        }
    }

    @Test func hugeExponentsStayLiteral() throws {
        let value = try JSONParser.parse("[1e999999999999999999999,-1E-999999999999999999999]")
        #expect(JSONWriter.compact(value) == "[1e999999999999999999999,-1E-999999999999999999999]")
    }
}
