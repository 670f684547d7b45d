// The canonical call text, parsing decoder output, and the output schema.

import Testing
import JSON
@testable import ToolCalls

@Suite struct ToolCallTests {
    @Test func canonicalJSONOfACall() throws {
        let arguments = try json(#"{ "order_id" : "ORD-1234", "reason": "Arrived \"broken\"\n", "amount": 12.50 }"#)
        let call = ToolCall.tool(name: "request_refund", arguments: arguments)
        #expect(call.canonicalJSON == #"{"tool":"request_refund","arguments":{"order_id":"ORD-1234","reason":"Arrived \"broken\"\n","amount":12.50}}"#)
    }

    @Test func canonicalJSONOfARefusal() {
        let call = ToolCall.noTool(reason: "No tool books flights / hotels — sorry\t")
        #expect(call.canonicalJSON == #"{"tool":"no_tool","reason":"No tool books flights / hotels — sorry\t"}"#)
    }

    @Test func parsesWhatItWrites() throws {
        let catalogue = try supportCatalogue()
        let calls: [ToolCall] = [
            .tool(name: "track_order", arguments: try json(#"{"order_id":"ORD-0042"}"#)),
            .tool(name: "escalate", arguments: try json(#"{"reason":"angry","priority":"urgent"}"#)),
            .tool(name: "escalate", arguments: .object([])),
            .noTool(reason: ""),
            .noTool(reason: "weather is out of scope 🌧"),
        ]
        for call in calls {
            let parsed = try ToolCall(parsing: call.canonicalJSON, catalogue: catalogue)
            #expect(parsed == call)
            #expect(parsed.canonicalJSON == call.canonicalJSON)
        }
    }

    @Test func parsingAcceptsWhitespace() throws {
        let call = try ToolCall(parsing: " {\n \"tool\" : \"track_order\" ,\n \"arguments\" : { \"order_id\" : \"ORD-1234\" } }\n",
                                catalogue: supportCatalogue())
        #expect(call.canonicalJSON == #"{"tool":"track_order","arguments":{"order_id":"ORD-1234"}}"#)
    }

    static let malformed: [(text: String, error: ToolCallError)] = [
        ("[]", .notAnObject(found: "an array")),
        ("{}", .toolNotFirst(firstKey: nil)),
        (#"{"arguments":{},"tool":"escalate"}"#, .toolNotFirst(firstKey: "arguments")),
        (#"{"tool":3,"arguments":{}}"#, .toolNotAString(found: "number 3")),
        (#"{"tool":"book_flight","arguments":{}}"#, .unknownTool("book_flight")),
        (#"{"tool":"escalate"}"#, .missingMember("arguments", tool: "escalate")),
        (#"{"tool":"no_tool"}"#, .missingMember("reason", tool: "no_tool")),
        (#"{"tool":"escalate","reason":"x"}"#, .unexpectedMember("reason", tool: "escalate")),
        (#"{"tool":"no_tool","arguments":{}}"#, .unexpectedMember("arguments", tool: "no_tool")),
        (#"{"tool":"escalate","arguments":{},"extra":1}"#, .unexpectedMember("extra", tool: "escalate")),
        (#"{"tool":"escalate","arguments":"x"}"#, .argumentsNotAnObject(tool: "escalate", found: "string \"x\"")),
        (#"{"tool":"no_tool","reason":null}"#, .reasonNotAString(found: "null")),
    ]

    @Test(arguments: malformed.indices)
    func rejectsMalformedCalls(_ index: Int) throws {
        let (text, expected) = Self.malformed[index]
        let catalogue = try supportCatalogue()
        #expect(throws: expected) { try ToolCall(parsing: text, catalogue: catalogue) }
    }

    @Test func unknownToolErrorNamesIt() throws {
        let catalogue = try supportCatalogue()
        do {
            _ = try ToolCall(parsing: #"{"tool":"book_flight","arguments":{}}"#, catalogue: catalogue)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "unknown tool \"book_flight\"")
        }
    }

    @Test func invalidJSONIsReported() throws {
        let catalogue = try supportCatalogue()
        #expect {
            try ToolCall(parsing: #"{"tool":"escalate","arguments":{}"#, catalogue: catalogue)
        } throws: { error in
            guard case ToolCallError.invalidJSON(let parseError) = error else { return false }
            return parseError.message.contains("expected ',' or '}' after object member")
        }
    }

    @Test func outputSchemaShape() throws {
        let catalogue = try ToolCatalogue(json: json(#"""
            [{"type":"function","function":{"name":"ping","parameters":{"type":"object","properties":{"host":{"type":"string"}}}}}]
            """#))
        let schema = ToolCall.outputSchema(for: catalogue, maxReasonLength: 50)
        let expected = #"{"anyOf":[{"type":"object","properties":{"tool":{"const":"ping"},"arguments":{"type":"object","properties":{"host":{"type":"string"}}}},"required":["tool","arguments"],"additionalProperties":false},{"type":"object","properties":{"tool":{"const":"no_tool"},"reason":{"type":"string","maxLength":50}},"required":["tool","reason"],"additionalProperties":false}]}"#
        #expect(JSONWriter.compact(schema) == expected)
    }

    @Test(arguments: ["support.tools.json", "devops.tools.json"])
    func outputSchemaValidatesCalls(_ file: String) throws {
        let catalogue = try ToolCatalogue(contentsOf: fixturePath(file))
        let validator = try SchemaValidator(schema: ToolCall.outputSchema(for: catalogue))
        #expect(validator.isValid(ToolCall.noTool(reason: "out of scope").json))
        #expect(!validator.isValid(ToolCall.noTool(reason: String(repeating: "x", count: 201)).json))
        #expect(!validator.isValid(ToolCall.tool(name: "no_tool", arguments: .object([])).json))
        #expect(!validator.isValid(try json(#"{"tool":"unknown","arguments":{}}"#)))
        #expect(!validator.isValid(try json(#"{"tool":"no_tool","reason":"x","extra":1}"#)))
    }
}

@Suite struct OutputSchemaReferenceTests {
    static let catalogueText = ##"""
        [{"type":"function","function":{"name":"plain","parameters":{"type":"object"}}},
         {"type":"function","function":{"name":"move","parameters":{"type":"object",
           "$defs":{"point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"]}},
           "properties":{"from":{"$ref":"#/$defs/point"},"path":{"type":"array","items":{"$ref":"#/$defs/point"}},
                         "note":{"const":{"$ref":"#/not/a/schema"}}},
           "required":["from"],"additionalProperties":false}}}]
        """##

    @Test func referencesPointIntoTheirBranch() throws {
        let catalogue = try ToolCatalogue(json: json(Self.catalogueText))
        let schema = ToolCall.outputSchema(for: catalogue)
        let arguments = try #require(schema["anyOf"]?.arrayValue?[1]["properties"]?["arguments"])
        #expect(arguments["properties"]?["from"] == .object([(key: "$ref", value: .string("#/anyOf/1/properties/arguments/$defs/point"))]))
        #expect(arguments["properties"]?["path"]?["items"]?["$ref"] == .string("#/anyOf/1/properties/arguments/$defs/point"))
        // Values of const are data, not schemas: unchanged.
        #expect(arguments["properties"]?["note"]?["const"]?["$ref"] == .string("#/not/a/schema"))

        let validator = try SchemaValidator(schema: schema)
        #expect(validator.isValid(try json(#"{"tool":"move","arguments":{"from":{"x":1,"y":2},"path":[{"x":0,"y":0}]}}"#)))
        #expect(!validator.isValid(try json(#"{"tool":"move","arguments":{"from":{"x":1}}}"#)))
        #expect(!validator.isValid(try json(#"{"tool":"move","arguments":{"from":{"x":1,"y":2},"path":[{"x":"0","y":0}]}}"#)))
    }

    @Test func catalogueValidatesCalls() throws {
        let catalogue = try ToolCatalogue(json: json(Self.catalogueText))
        #expect(catalogue.validate(.tool(name: "move", arguments: try json(#"{"from":{"x":1,"y":2}}"#)), origin: .unrequested).isEmpty)
        #expect(catalogue.validate(.tool(name: "move", arguments: try json(#"{"from":{"x":1}}"#)), origin: .unrequested) == [
            ValidationIssue(instancePointer: "/from", schemaPointer: "/$defs/point/required", message: "missing required property \"y\""),
        ])
        #expect(catalogue.validate(.noTool(reason: "anything"), origin: .unrequested).isEmpty)
        #expect(catalogue.validate(.tool(name: "ghost", arguments: .object([])), origin: .unrequested).map(\.message) == ["unknown tool \"ghost\""])
    }

    @Test func unsupportedParameterKeywordsAreRejectedAtLoad() throws {
        let text = #"[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"n":{"type":"integer","multipleOf":5}}}}}]"#
        let value = try json(text)
        do {
            _ = try ToolCatalogue(json: value)
            Issue.record("expected an error")
        } catch {
            #expect(error.pointer == "/0/function/parameters/properties/n")
            #expect(error.description == "/0/function/parameters/properties/n: unsupported keyword \"multipleOf\"")
        }
    }
}
