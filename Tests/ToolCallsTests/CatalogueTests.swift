// Loading OpenAI-format tool catalogues, and the exact error for each kind of mistake.

import Testing
import JSON
@testable import ToolCalls

@Suite struct CatalogueTests {
    @Test func loadsTheDemoCatalogues() throws {
        let support = try supportCatalogue()
        #expect(support.names == ["track_order", "request_refund", "update_address", "escalate"])
        let refund = try #require(support.tool(named: "request_refund"))
        #expect(refund.description.hasPrefix("File a refund request"))
        #expect(refund.parameters["required"] == .array([.string("order_id"), .string("reason")]))
        #expect(refund.parameters["properties"]?.objectMembers?.map(\.key) == ["order_id", "reason", "amount"])

        let devops = try devopsCatalogue()
        #expect(devops.names == ["get_service_status", "restart_service", "scale_deployment", "query_logs", "page_oncall", "create_ticket"])
        #expect(devops.tool(named: "no_such_tool") == nil)
    }

    @Test func missingParametersMeanNoArguments() throws {
        let catalogue = try ToolCatalogue(json: json(#"[{"type":"function","function":{"name":"ping"}}]"#))
        let ping = try #require(catalogue.tool(named: "ping"))
        #expect(ping.description == "")
        #expect(JSONWriter.compact(ping.parameters) == #"{"type":"object","properties":{},"additionalProperties":false}"#)
    }

    static let good = #"{"type":"function","function":{"name":"a","parameters":{"type":"object"}}}"#

    /// Catalogue text → the pointer and a fragment of the message of the error it must raise.
    static let rejected: [(text: String, pointer: String, message: String)] = [
        (#"{"tools":[]}"#, "", "must be an array of tools, found an object"),
        ("[\(good), 3]", "/1", "expected an object, found number 3"),
        (#"[{"function":{"name":"a"}}]"#, "/0", "missing \"type\""),
        (#"[{"type":"retrieval","function":{"name":"a"}}]"#, "/0/type", "tool type must be \"function\", found string \"retrieval\""),
        (#"[{"type":"function"}]"#, "/0", "missing \"function\""),
        (#"[{"type":"function","function":[]}]"#, "/0/function", "expected an object, found an array"),
        ("[\(good), {\"type\":\"function\",\"function\":{\"description\":\"x\"}}]", "/1/function", "missing \"name\""),
        (#"[{"type":"function","function":{"name":7}}]"#, "/0/function/name", "expected a string, found number 7"),
        (#"[{"type":"function","function":{"name":""}}]"#, "/0/function/name", "invalid tool name \"\""),
        (#"[{"type":"function","function":{"name":"get weather"}}]"#, "/0/function/name", "invalid tool name \"get weather\""),
        (#"[{"type":"function","function":{"name":"wetter_é"}}]"#, "/0/function/name", "must match [A-Za-z0-9_-]{1,64}"),
        ("[{\"type\":\"function\",\"function\":{\"name\":\"\(String(repeating: "x", count: 65))\"}}]", "/0/function/name", "invalid tool name"),
        (#"[{"type":"function","function":{"name":"no_tool"}}]"#, "/0/function/name", "reserved"),
        ("[\(good), \(good), \(good)]", "/1/function/name", "duplicate tool name \"a\", first defined at /0/function/name"),
        (#"[{"type":"function","function":{"name":"a","description":false}}]"#, "/0/function/description", "expected a string"),
        (#"[{"type":"function","function":{"name":"a","parameters":[]}}]"#, "/0/function/parameters", "expected a schema object"),
        (#"[{"type":"function","function":{"name":"a","parameters":{"properties":{}}}}]"#, "/0/function/parameters", "missing \"type\": \"object\""),
        (#"[{"type":"function","function":{"name":"a","parameters":{"type":"string"}}}]"#, "/0/function/parameters/type", "\"type\" must be \"object\""),
        (#"[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":[]}}}]"#, "/0/function/parameters/properties", "\"properties\" must be an object"),
        (#"[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"x/y":1}}}}]"#, "/0/function/parameters/properties/x~1y", "property schema must be"),
        (#"[{"type":"function","function":{"name":"a","parameters":{"type":"object","required":"x"}}}]"#, "/0/function/parameters/required", "\"required\" must be an array"),
        (#"[{"type":"function","function":{"name":"a","parameters":{"type":"object","required":["x",1]}}}]"#, "/0/function/parameters/required/1", "must be a string"),
    ]

    @Test(arguments: rejected.indices)
    func rejects(_ index: Int) throws {
        let (text, pointer, message) = Self.rejected[index]
        let value = try json(text)
        do {
            let catalogue = try ToolCatalogue(json: value)
            Issue.record("accepted \(text): \(catalogue.names)")
        } catch {
            #expect(error.pointer == pointer, "\(error)")
            #expect(error.description.contains(message), "\(error)")
            #expect(error.description.hasPrefix(pointer.isEmpty ? "/:" : pointer + ":"), "\(error)")
        }
    }

    @Test func reportsFileAndJSONProblems() {
        #expect {
            try ToolCatalogue(contentsOf: fixturePath("does-not-exist.json"))
        } throws: { error in
            guard case CatalogueError.unreadableFile(let path, _) = error else { return false }
            return path.hasSuffix("does-not-exist.json")
        }
        #expect {
            try ToolCatalogue(contentsOf: fixturePath("../TestSupport.swift"))
        } throws: { error in
            guard case CatalogueError.invalidJSON = error else { return false }
            return true
        }
    }

    @Test func validNames() {
        #expect(ToolCatalogue.isValidName("a"))
        #expect(ToolCatalogue.isValidName("Get-Weather_2"))
        #expect(ToolCatalogue.isValidName(String(repeating: "z", count: 64)))
        #expect(!ToolCatalogue.isValidName("a.b"))
        #expect(!ToolCatalogue.isValidName("a b"))
        #expect(!ToolCatalogue.isValidName(String(repeating: "z", count: 65)))
    }
}
