// The output schema through both independent paths: the grammar compiler (SchemaGrammar, what
// the decoder is constrained by) and SchemaValidator (the check before dispatch). Canonical
// calls must be accepted by both, and calls that break a schema rejected by both.

import Testing
import JSON
import Grammar
import SchemaGrammar
import ToolCalls

@Suite struct GrammarAgreementTests {
    static let calls: [(file: String, call: String, valid: Bool)] = [
        ("support.tools.json", #"{"tool":"track_order","arguments":{"order_id":"ORD-1234"}}"#, true),
        ("support.tools.json", #"{"tool":"request_refund","arguments":{"order_id":"ORD-12345","reason":"broken lid","amount":9.99}}"#, true),
        ("support.tools.json", #"{"tool":"escalate","arguments":{"reason":"wants a manager","priority":"urgent"}}"#, true),
        ("support.tools.json", #"{"tool":"no_tool","reason":"I can only help with orders."}"#, true),
        ("support.tools.json", #"{"tool":"track_order","arguments":{"order_id":"ORD-12"}}"#, false),
        ("support.tools.json", #"{"tool":"escalate","arguments":{"reason":"x"}}"#, false),
        ("support.tools.json", #"{"tool":"escalate","arguments":{"reason":"wants a manager","priority":"high"}}"#, false),
        ("support.tools.json", #"{"tool":"cancel_order","arguments":{}}"#, false),
        ("devops.tools.json", #"{"tool":"scale_deployment","arguments":{"name":"web","replicas":3}}"#, true),
        ("devops.tools.json", #"{"tool":"create_ticket","arguments":{"title":"Rotate certs","labels":["ops"]}}"#, true),
        ("devops.tools.json", #"{"tool":"no_tool","reason":""}"#, true),
        ("devops.tools.json", #"{"tool":"scale_deployment","arguments":{"name":"web","replicas":300}}"#, false),
        ("devops.tools.json", #"{"tool":"page_oncall","arguments":{"team":"infra","severity":"sev1","summary":"db down now"}}"#, false),
        ("devops.tools.json", #"{"tool":"restart_service","arguments":{"service":"api","force":true,"now":true}}"#, false),
    ]

    @Test(arguments: calls.indices)
    func grammarAndValidatorAgree(_ index: Int) throws {
        let (file, call, valid) = Self.calls[index]
        let catalogue = try ToolCatalogue(contentsOf: fixturePath(file))
        let schema = ToolCall.outputSchema(for: catalogue)
        let recognizer = try GrammarRecognizer(SchemaCompiler.compile(schema))
        let validator = try SchemaValidator(schema: schema)
        let validatorAccepts = validator.isValid(try json(call))
        let grammarAccepts = recognizer.matches(call)
        #expect(validatorAccepts == valid, "validator on \(call)")
        #expect(grammarAccepts == valid, "grammar on \(call)")
    }

    @Test func rebasedReferencesCompile() throws {
        let catalogue = try ToolCatalogue(json: json(OutputSchemaReferenceTests.catalogueText))
        let recognizer = try GrammarRecognizer(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        let good = recognizer.matches(#"{"tool":"move","arguments":{"from":{"x":1,"y":2}}}"#)
        let bad = recognizer.matches(#"{"tool":"move","arguments":{"from":{"x":"1","y":2}}}"#)
        #expect(good)
        #expect(!bad)
    }

    /// The canonical writer's string escapes are the ones the grammar allows.
    @Test func canonicalEscapesAreInTheGrammar() throws {
        let catalogue = try supportCatalogue()
        let recognizer = try GrammarRecognizer(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        for reason in ["say \"hi\"", "back\\slash / slash", "tab\tnew\nline\r", "bell\u{7}\u{1F}\u{8}\u{C}", "é 日本 😀"] {
            let call = ToolCall.noTool(reason: reason)
            let accepted = recognizer.matches(call.canonicalJSON)
            #expect(accepted, "\(call.canonicalJSON)")
        }
    }
}
