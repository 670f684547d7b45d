// Integers (exact ranges) and numbers (exact for integer-valued bounds).

import Grammar
import SchemaGrammar
import Testing

@Suite struct IntegerRangeTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"integer","minimum":-5,"maximum":130}"#,
              accept: ["-5", "-1", "0", "9", "10", "99", "100", "129", "130"],
              reject: ["131", "-6", "007", "-0", "1.0", "200", "1000", "-10", ""]),
        .init(#"{"type":"integer","minimum":0,"maximum":100}"#, accept: ["0", "50", "100"], reject: ["101", "-1", "00"]),
        .init(#"{"type":"integer","minimum":1,"maximum":1440}"#,
              accept: ["1", "9", "10", "999", "1000", "1399", "1439", "1440"], reject: ["0", "1441", "1500", "9999"]),
        .init(#"{"type":"integer","minimum":17}"#, accept: ["17", "18", "99", "100", "999999999999999"], reject: ["16", "0", "-1", "1000000000000000"]),
        .init(#"{"type":"integer","maximum":-3}"#, accept: ["-3", "-4", "-100"], reject: ["-2", "0", "3"]),
        .init(#"{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10}"#, accept: ["1", "9"], reject: ["0", "10"]),
        .init(#"{"type":"integer","minimum":0.5,"maximum":2.5}"#, accept: ["1", "2"], reject: ["0", "3"]),
        .init(#"{"type":"integer","minimum":-120,"maximum":-15}"#,
              accept: ["-15", "-19", "-20", "-99", "-100", "-120"], reject: ["-14", "-121", "15", "-0"]),
        .init(#"{"type":"integer","minimum":5,"maximum":5}"#, accept: ["5"], reject: ["4", "6"]),
        .init(#"{"type":"integer","minimum":3,"exclusiveMinimum":true}"#, accept: ["4"], reject: ["3"]),
        .init(#"{"type":"integer","minimum":2,"exclusiveMinimum":4}"#, accept: ["5"], reject: ["4", "3"]),
        .init(#"{"type":"integer","maximum":1e300}"#, accept: ["-5", "999999999999999"], reject: ["1000000000000000"]),
        .init(#"{"type":"integer","minimum":1000,"maximum":20500}"#,
              accept: ["1000", "9999", "10000", "19999", "20000", "20499", "20500"], reject: ["999", "20501", "20600", "21000", "30000"]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }

    /// Every integer in a window around several ranges, against plain arithmetic.
    @Test(arguments: [(-5, 130), (0, 0), (1, 9), (7, 1234), (-1234, -7), (-99, 99), (10, 10), (95, 105)])
    func exhaustiveRange(_ bounds: (Int, Int)) throws {
        let (low, high) = bounds
        let grammar = try compile(#"{"type":"integer","minimum":\#(low),"maximum":\#(high)}"#)
        let recognizer = try GrammarRecognizer(grammar)
        for value in (low - 30)...(high + 30) {
            let matched = recognizer.matches(String(value))
            #expect(matched == (low...high).contains(value), "value \(value)")
        }
    }

    @Test func emptyRangeIsInvalid() throws {
        #expect(try compileError(#"{"type":"integer","minimum":5,"maximum":4}"#)
            == .invalidSchema(pointer: "", reason: "no integer satisfies the bounds"))
        #expect(try compileError(#"{"type":"integer","minimum":"5"}"#)
            == .invalidSchema(pointer: "/minimum", reason: "minimum must be a number"))
        #expect(try compileError(#"{"type":"integer","minimum":-1e300,"maximum":-1e299}"#)
            == .invalidSchema(pointer: "", reason: "no integer within 15 digits satisfies the bounds"))
        #expect(try compileError(#"{"type":"number","minimum":1e16}"#)
            == .invalidSchema(pointer: "", reason: "no number within 15 digits satisfies the bounds"))
    }
}

@Suite struct NumberRangeTests {
    static let cases: [AcceptRejectCase] = [
        .init(#"{"type":"number","minimum":0}"#, accept: ["0", "0.5", "12.25", "100"], reject: ["-0.5", "-1", "-0", "1e3", "1.50"]),
        .init(#"{"type":"number","minimum":-1,"maximum":1}"#,
              accept: ["-1", "-0.999", "0", "0.5", "1", "-0.5"], reject: ["1.5", "-1.5", "1.01", "-1.01", "2", "-0"]),
        .init(#"{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":5}"#,
              accept: ["0.001", "4.999", "3"], reject: ["0", "5", "5.1", "-0.1"]),
        .init(#"{"type":"number","exclusiveMaximum":0}"#, accept: ["-0.5", "-3"], reject: ["0", "0.5", "-0"]),
        .init(#"{"type":"number","minimum":2,"maximum":3}"#, accept: ["2", "2.5", "3"], reject: ["3.5", "1.9", "3.01"]),
        .init(#"{"type":"number","minimum":0.5,"maximum":2.5}"#, accept: ["1", "1.5", "2"], reject: ["0.5", "2.5", "3"]),
    ]

    @Test(arguments: cases) func acceptsAndRejects(_ testCase: AcceptRejectCase) throws { try check(testCase) }
}
