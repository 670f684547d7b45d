// The eval metrics mean what the report says they mean.

import JSON
import Testing
@testable import ToolCalls

@Suite("Routing eval metrics")
struct RoutingEvalTests {
    @Test("gold rows: tool targets are schema-checked, no_tool targets need no arguments, bad rows say why")
    func goldRows() throws {
        let catalogue = try supportCatalogue()
        let row = try GoldRow(line: #"{"prompt":"where is ORD-1234","target":{"tool":"track_order","arguments":{"order_id":"ORD-1234"}}}"#, catalogue: catalogue)
        #expect(row.tool == "track_order" && row.arguments?["order_id"]?.stringValue == "ORD-1234")
        let refusal = try GoldRow(line: #"{"prompt":"hi","target":{"tool":"no_tool"}}"#, catalogue: catalogue)
        #expect(refusal.tool == "no_tool" && refusal.arguments == nil)
        for (line, fragment) in [
            (#"{"prompt":"x","target":{"tool":"track_order","arguments":{"order_id":"1234"}}}"#, "schema"),
            (#"{"prompt":"x","target":{"tool":"launch","arguments":{}}}"#, "not in the catalogue"),
            (#"{"prompt":"","target":{"tool":"no_tool"}}"#, "prompt"),
            (#"{"prompt":"x"}"#, "target"),
            ("not json", "not JSON"),
        ] {
            #expect(throws: GoldRowError.self) { try GoldRow(line: line, catalogue: catalogue) }
            do { _ = try GoldRow(line: line, catalogue: catalogue) } catch { #expect(error.description.contains(fragment), "\(error)") }
        }
    }

    @Test("each rate has its own denominator; arguments compare as JSON values")
    func rates() throws {
        let track = GoldRow(prompt: "a", tool: "track_order", arguments: try json(#"{"order_id":"ORD-1","n":1}"#))
        let refund = GoldRow(prompt: "b", tool: "request_refund", arguments: try json(#"{"order_id":"ORD-2","reason":"x"}"#))
        let none = GoldRow(prompt: "c", tool: "no_tool", arguments: nil)
        let outcomes = [
            EvalOutcome(gold: track, call: .tool(name: "track_order", arguments: try json(#"{"n":1.0,"order_id":"ORD-1"}"#)), milliseconds: 10),   // right
            EvalOutcome(gold: track, call: .tool(name: "track_order", arguments: try json(#"{"order_id":"ORD-9","n":1}"#)), milliseconds: 20),    // wrong args
            EvalOutcome(gold: refund, call: .noTool(reason: "?"), milliseconds: 30),                                                           // wrong tool
            EvalOutcome(gold: refund, call: nil, milliseconds: 40),                                                                             // invalid
            EvalOutcome(gold: none, call: .noTool(reason: "hello"), milliseconds: 50),                                                         // right
            EvalOutcome(gold: none, call: .tool(name: "escalate", arguments: try json(#"{"reason":"x"}"#)), milliseconds: 60),                  // false call
        ]
        let report = EvalReport(outcomes)
        #expect(report.rows == 6)
        #expect(report.validRate == 5.0 / 6)
        #expect(report.toolAccuracy == 3.0 / 6)
        #expect(report.argumentRows == 2 && report.argumentAccuracy == 0.5)
        #expect(report.noToolRows == 2 && report.falseToolCallRate == 0.5 && report.falseToolCalls == 1)
        #expect(report.exactAccuracy == 2.0 / 6)
        #expect(report.latencyP50 == 40 || report.latencyP50 == 30)
        #expect(report.latencyP95 == 60)
    }

    @Test("JSON equivalence ignores member order and number spelling, nothing else")
    func equivalence() throws {
        #expect(try json(#"{"a":[1,{"b":2e0}],"c":"x"}"#).isEquivalent(to: json(#"{"c":"x","a":[1.0,{"b":2}]}"#)))
        #expect(try !json(#"{"a":[1,2]}"#).isEquivalent(to: json(#"{"a":[2,1]}"#)))
        #expect(try !json(#"{"a":1}"#).isEquivalent(to: json(#"{"a":1,"b":null}"#)))
        #expect(try !json(#"{"a":"1"}"#).isEquivalent(to: json(#"{"a":1}"#)))
    }
}
