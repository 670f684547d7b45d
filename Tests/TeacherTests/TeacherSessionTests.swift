// distill against a scripted teacher: origins, dedupe, verdicts, counts, budget, determinism.

import Testing
import JSON
import Teacher
import ToolCalls

@Suite struct TeacherSessionTests {
    static let paraphraseAnswer = """
        Here you go:
        ```json
        {"rows": [
          {"prompt": "could you refund ORD-1234 because it broke?", "target": {"tool": "refund", "arguments": {"reason": "it broke", "order_id": "ORD-1234"}}},
          {"prompt": "please refund my order because it broke", "target": {"tool": "refund", "arguments": {"order_id": "ORD-1234", "reason": "it broke"}}},
          {"prompt": "Is the service   up", "target": {"tool": "ping", "arguments": {}}}
        ]}
        ```
        """
    static let proposalAnswer = """
        {"prompt": "refund ORD-9876, wrong size, express please", "target": {"tool": "refund", "arguments": {"order_id": "ORD-9876", "reason": "wrong size", "speed": "express"}}}
        {"prompt": "refund ORD-12", "target": {"tool": "refund", "arguments": {"order_id": "ORD-12"}}}
        {"prompt": "refund it", 'target': nope}
        {"prompt": "tell me a joke", "target": {"tool": "no_tool", "reason": "small talk"}}
        """

    func session(_ transport: ScriptedTransport, maxRequests: Int? = 2, focusTools: Int = 1) -> TeacherSession {
        var options = TeacherOptions()
        options.batchSize = 3
        options.focusTools = focusTools
        options.maxRequests = maxRequests
        let client = ChatClient(endpoint: TeacherEndpoint(baseURL: "http://127.0.0.1:9/v1", model: "t"), transport: transport,
                                responseFormat: .none, sleep: { _ in })
        return TeacherSession(client: client, options: options)
    }

    func scripted() -> ScriptedTransport {
        ScriptedTransport([ScriptedTransport.completion(Self.paraphraseAnswer), ScriptedTransport.completion(Self.proposalAnswer)])
    }

    @Test func countsOriginsAndVerdicts() async throws {
        let result = try await session(scripted()).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: 7)
        #expect(result.requests == 2 && result.httpRequests == 2)
        #expect(result.asked == 3 * 2 + 8)
        #expect(result.received == 7 && result.unparseable == 1)
        #expect(result.kept.map(\.prompt) == ["could you refund ORD-1234 because it broke?", "refund ORD-9876, wrong size, express please", "tell me a joke"])
        #expect(result.keptParaphrases == 1 && result.keptProposals == 2)
        #expect(result.rejected == [RejectReason.duplicate: 1, RejectReason.notInRequest: 1, RejectReason.schema: 1])
        #expect(result.candidates[0].origin == .paraphrase(of: "refund ORD-1234 because it broke"))
        #expect(result.candidates[0].row.call == Fixture.examples[0].call, "a paraphrase carries its example's call")
        #expect(result.candidates[3].origin == .proposed && result.candidates[3].request == 1)
        #expect(result.summary.contains("kept 3 (1 paraphrases, 2 new), rejected 3 (duplicate 1, not_in_request 1, schema 1)"))
    }

    @Test func everyKeptRowPassesTheDefaultChecks() async throws {
        let result = try await session(scripted()).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: 7)
        for row in result.kept { #expect(RowChecks.verdict(row, catalogue: Fixture.catalogue) == .keep) }
    }

    @Test func callerValidatorReplacesTheDefault() async throws {
        let result = try await session(scripted()).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: 7) { row in
            row.call.toolName == "no_tool" ? .reject(reason: "no_refusals", detail: row.prompt) : .keep
        }
        // The default would refuse the lost order id and ORD-12; this validator only refuses no_tool rows.
        #expect(result.rejected == [RejectReason.duplicate: 1, "no_refusals": 1])
        #expect(result.kept.count == 4)
    }

    @Test func stopsOnceEnoughRowsAreKept() async throws {
        let transport = scripted()
        let result = try await session(transport, maxRequests: nil).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 1, seed: 7)
        #expect(result.requests == 1 && transport.sent.count == 1)
        #expect(result.kept.count == 1)
    }

    @Test func proposalsAimAtTheLeastCoveredToolAndItsOptionalArguments() async throws {
        func proposal(focusTools: Int) async throws -> String {
            let transport = scripted()
            _ = try await session(transport, focusTools: focusTools).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: 7)
            return try #require(transport.sent.last?.body["messages"]?.arrayValue?.last?["content"]?.stringValue)
        }
        // One example each, but the paraphrase answer before the proposal kept a refund row: ping is now the least covered.
        let one = try await proposal(focusTools: 1)
        #expect(one.contains("Use mostly these tools:\n- ping\n") && !one.contains("- refund"))
        #expect(one.contains("2 of the rows must be requests that get no_tool"))
        // refund's two rows both state a reason; speed and amount are stated in none.
        let two = try await proposal(focusTools: 2)
        #expect(two.contains("- ping\n- refund, stating these optional arguments in some requests: speed, amount\n"))
    }

    @Test func paraphraseRequestCarriesTheBatch() async throws {
        let transport = scripted()
        _ = try await session(transport).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: 7)
        let paraphrase = try #require(transport.sent.first?.body["messages"]?.arrayValue?.last?["content"]?.stringValue)
        for example in Fixture.examples { #expect(paraphrase.contains(example.jsonLine)) }
        #expect(paraphrase.contains("Write 2 new wordings of each example request"))
    }

    @Test func sameSeedSameRequestsOtherSeedOtherSamplingSeed() async throws {
        func bodies(seed: UInt64) async throws -> [String] {
            let transport = scripted()
            _ = try await session(transport).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: seed)
            return transport.sent.map { JSONWriter.compact($0.body) }
        }
        let first = try await bodies(seed: 11)
        #expect(try await bodies(seed: 11) == first)
        let other = try await bodies(seed: 12)
        #expect(other != first)
        #expect(first.map { (try? JSONParser.parse($0))?["seed"] } == [.number(JSONNumber(11)), .number(JSONNumber(12))])
    }

    @Test func failedRequestSurfacesTheTypedError() async {
        let transport = ScriptedTransport([ScriptedTransport.status(401, "bad key")])
        await #expect(throws: TeacherError.http(url: "http://127.0.0.1:9/v1/chat/completions", status: 401, body: "bad key", attempts: 1)) {
            _ = try await session(transport).distill(catalogue: Fixture.catalogue, examples: Fixture.examples, count: 10, seed: 7)
        }
    }
}
