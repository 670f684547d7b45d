// The default verdict: schema, then every non-enum string argument verbatim in the request.

import Testing
import Teacher
import ToolCalls

@Suite struct RowChecksTests {
    func verdict(_ line: String) -> RowVerdict { RowChecks.verdict(Fixture.row(line), catalogue: Fixture.catalogue) }

    @Test func groundedRowIsKept() {
        #expect(verdict(#"{"prompt": "refund ORD-1234, it broke", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1234", "reason": "it broke"}}}"#) == .keep)
    }

    @Test func enumValuesNeedNotBeVerbatim() {
        #expect(verdict(#"{"prompt": "fast refund for ORD-1234", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1234", "speed": "express"}}}"#) == .keep)
    }

    @Test func inventedIdentifierIsRejectedWithItsPointer() {
        let result = verdict(#"{"prompt": "refund my last order", "target": {"tool": "refund", "arguments": {"order_id": "ORD-2345"}}}"#)
        guard case .reject(let reason, let detail) = result else { Issue.record("kept an invented order id"); return }
        #expect(reason == RejectReason.notInRequest)
        #expect(detail.contains("/order_id") && detail.contains("ORD-2345"))
    }

    @Test func freeTextMustBeASpanOfTheRequest() {
        let result = verdict(#"{"prompt": "refund ORD-1234 since the box arrived broken", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1234", "reason": "damaged box"}}}"#)
        #expect(result == .reject(reason: RejectReason.notInRequest, detail: #"refund /reason = "damaged box" does not occur in the request"#))
    }

    @Test func caseMattersForIdentifiers() {
        let result = verdict(#"{"prompt": "refund ord-1234", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1234"}}}"#)
        #expect(!result.isKept)
    }

    @Test func schemaViolationIsRejectedBeforeGrounding() {
        let badPattern = TeacherRow(prompt: "refund ORD-12", call: .tool(name: "refund", arguments: .object([("order_id", .string("ORD-12"))])))
        guard case .reject(let reason, _) = RowChecks.verdict(badPattern, catalogue: Fixture.catalogue) else { Issue.record("kept a pattern violation"); return }
        #expect(reason == RejectReason.schema)
        let extra = TeacherRow(prompt: "ping now", call: .tool(name: "ping", arguments: .object([("now", .bool(true))])))
        #expect(!RowChecks.verdict(extra, catalogue: Fixture.catalogue).isKept)
    }

    @Test func unknownToolIsASchemaRejection() {
        let row = TeacherRow(prompt: "delete everything", call: .tool(name: "delete_all", arguments: .object([])))
        guard case .reject(let reason, let detail) = RowChecks.verdict(row, catalogue: Fixture.catalogue) else { Issue.record("kept an unknown tool"); return }
        #expect(reason == RejectReason.schema && detail.contains("delete_all"))
    }

    @Test func noToolNeedsAReason() {
        #expect(RowChecks.verdict(TeacherRow(prompt: "hi", call: .noTool(reason: "small talk")), catalogue: Fixture.catalogue) == .keep)
        guard case .reject(let reason, _) = RowChecks.verdict(TeacherRow(prompt: "hi", call: .noTool(reason: " ")), catalogue: Fixture.catalogue) else {
            Issue.record("kept a no_tool row without a reason"); return
        }
        #expect(reason == RejectReason.emptyReason)
    }

    @Test func dedupeKeyIgnoresCaseSpacingAndTrailingPunctuation() {
        let a = TeacherRow(prompt: "Refund  ORD-1234 please!", call: .noTool(reason: "x"))
        let b = TeacherRow(prompt: "refund ORD-1234 please", call: .noTool(reason: "y"))
        #expect(a.dedupeKey == b.dedupeKey)
        #expect(a.dedupeKey != TeacherRow(prompt: "refund ORD-1235 please", call: .noTool(reason: "x")).dedupeKey)
    }
}
