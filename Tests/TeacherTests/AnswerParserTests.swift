// Reading rows out of model answers: fences, prose, one object a line, truncation, broken JSON.

import Testing
import Teacher
import ToolCalls

@Suite struct AnswerParserTests {
    let refund = #"{"prompt": "refund ORD-1111 please", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1111"}}}"#
    let ping = #"{"prompt": "ping it", "target": {"tool": "ping", "arguments": {}}}"#

    @Test func wrapperObjectGivesEveryRow() {
        let answer = AnswerParser.parse(#"{"rows": [\#(refund), \#(ping)]}"#, catalogue: Fixture.catalogue)
        #expect(answer.rows.map(\.prompt) == ["refund ORD-1111 please", "ping it"])
        #expect(answer.rows[0].call == .tool(name: "refund", arguments: .object([("order_id", .string("ORD-1111"))])))
        #expect(answer.unparseable == 0 && answer.received == 2)
    }

    @Test func codeFenceAndProseAroundTheJSONAreIgnored() {
        let text = "Sure! Here are the rows [as asked]:\n```json\n[\(refund),\n\(ping)]\n```\nLet me know if you need more {anything}."
        let answer = AnswerParser.parse(text, catalogue: Fixture.catalogue)
        #expect(answer.rows.count == 2)
        #expect(answer.unparseable == 0, "bracketed prose that never mentions a prompt is not a row: \(answer.problems)")
    }

    @Test func oneObjectPerLineIsRead() {
        let answer = AnswerParser.parse("\(refund)\n\(ping)\n", catalogue: Fixture.catalogue)
        #expect(answer.rows.count == 2 && answer.received == 2)
    }

    @Test func rowsBeforeATruncationSurviveAndTheCutRowIsCounted() {
        let text = #"{"rows": [\#(refund), \#(ping), {"prompt": "refund ORD-22"#
        let answer = AnswerParser.parse(text, catalogue: Fixture.catalogue)
        #expect(answer.rows.count == 2)
        #expect(answer.unparseable == 1)
        #expect(answer.problems.first?.hasPrefix("cut off") == true)
    }

    @Test func brokenRowIsCountedAndItsNeighboursKept() {
        let broken = #"{"prompt": "refund ORD-3333", "target": {"tool": "refund", "arguments": {'order_id': 'ORD-3333'}}}"#
        let answer = AnswerParser.parse("[\(refund), \(broken), \(ping)]", catalogue: Fixture.catalogue)
        #expect(answer.rows.map(\.prompt) == ["refund ORD-1111 please", "ping it"])
        #expect(answer.unparseable == 1)
        #expect(answer.problems.first?.hasPrefix("broken JSON") == true)
    }

    @Test func missingCommaBetweenRowsLosesNoRow() {
        let answer = AnswerParser.parse("[\(refund)\n\(ping)]", catalogue: Fixture.catalogue)
        #expect(answer.rows.count == 2 && answer.unparseable == 0)
    }

    @Test func rowWithoutACallIsUnparseableWithItsReason() {
        let answer = AnswerParser.parse(#"{"rows": [{"prompt": "hello"}, {"prompt": 5, "target": {"tool": "ping"}}]}"#, catalogue: Fixture.catalogue)
        #expect(answer.rows.isEmpty)
        #expect(answer.unparseable == 2)
        #expect(answer.problems[0].contains("missing \"tool\""))
        #expect(answer.problems[1].contains("/prompt: must be a string"))
    }

    @Test func proseOnlyHasNoRows() {
        let answer = AnswerParser.parse("I cannot help with that.", catalogue: Fixture.catalogue)
        #expect(answer.received == 0)
    }

    @Test func variantShapesAreNormalised() {
        let text = """
            {"request": "refund ORD-4444", "call": {"name": "refund", "arguments": "{\\"order_id\\": \\"ORD-4444\\"}"}}
            {"prompt": "ping", "tool": "ping"}
            {"prompt": "hi", "target": {"tool": "no_tool", "reason": "small talk"}}
            """
        let answer = AnswerParser.parse(text, catalogue: Fixture.catalogue)
        #expect(answer.rows.map(\.call.toolName) == ["refund", "ping", "no_tool"])
        #expect(answer.rows[0].call == .tool(name: "refund", arguments: .object([("order_id", .string("ORD-4444"))])))
        #expect(answer.rows[2].call == .noTool(reason: "small talk"))
    }

    @Test func argumentsComeBackInSchemaOrder() {
        let text = #"{"prompt": "express refund ORD-5555", "target": {"tool": "refund", "arguments": {"speed": "express", "order_id": "ORD-5555"}}}"#
        let answer = AnswerParser.parse(text, catalogue: Fixture.catalogue)
        #expect(answer.rows.first?.call.canonicalJSON == #"{"tool":"refund","arguments":{"order_id":"ORD-5555","speed":"express"}}"#)
    }
}
