// The chat-completions request read strictly, and the answer's two shapes, without a daemon.

import JSON
import Testing
import ToolCalls
@testable import OpenAIAPI

private func body(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

private func read(_ text: String) throws -> ChatRequest { try ChatRequest(json: body(text)) }

/// The parameter a refused body names.
private func refusedParam(_ text: String) throws -> String? {
    do {
        _ = try read(text)
        return "accepted"
    } catch let error as OpenAIError {
        #expect(error.status == 400 && error.type == "invalid_request_error", "\(error)")
        return error.param
    }
}

private let user = #""messages":[{"role":"user","content":"Where is ORD-1?"}]"#
private let weatherTools = #"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#

@Suite("OpenAI chat request")
struct ChatRequestTests {
    @Test("a minimal request: the last user message is routed, auto, no stream")
    func minimal() throws {
        let request = try read(#"{"model":"support",\#(user)}"#)
        #expect(request.model == "support" && request.turn == .route("Where is ORD-1?"))
        #expect(request.toolChoice == .auto && !request.stream && !request.dispatch && request.tools == nil)
    }

    @Test("harmless parameters are accepted: temperature 0, top_p, seed, n 1, user, nulls, text response_format")
    func harmless() throws {
        let request = try read(#"{"model":"m",\#(user),"temperature":0,"top_p":0.5,"seed":7,"n":1,"user":"u","stop":null,"max_tokens":null,"response_format":{"type":"text"},"parallel_tool_calls":false,"logprobs":false,"frequency_penalty":0}"#)
        #expect(request.model == "m")
    }

    @Test("parameters that would change the answer, or are unknown, are refused by name",
          arguments: [
              (#""n":2"#, "n"), (#""temperature":0.2"#, "temperature"), (#""top_p":0"#, "top_p"), (#""logprobs":true"#, "logprobs"),
              (#""top_logprobs":2"#, "top_logprobs"), (#""parallel_tool_calls":true"#, "parallel_tool_calls"),
              (#""response_format":{"type":"json_object"}"#, "response_format"), (#""max_tokens":5"#, "max_tokens"),
              (#""max_completion_tokens":5"#, "max_completion_tokens"), (#""stop":["\n"]"#, "stop"), (#""presence_penalty":1"#, "presence_penalty"),
              (#""logit_bias":{"1":5}"#, "logit_bias"), (#""functions":[]"#, "functions"), (#""store":true"#, "store"), (#""seed":"x""#, "seed"),
              (#""frobnicate":1"#, "frobnicate"), (#""stream":"yes""#, "stream"), (#""stream_options":{"include_usage":true}"#, "stream_options"),
              (#""toolrouter":{"dispatch":true,"x":1}"#, "toolrouter.x"), (#""toolrouter":{"deadline_ms":0}"#, "toolrouter.deadline_ms"),
              (#""tool_choice":"sometimes""#, "tool_choice"), (#""tool_choice":{"type":"function"}"#, "tool_choice"),
          ])
    func refused(member: String, param: String) throws {
        #expect(try refusedParam(#"{"model":"m",\#(user),\#(member)}"#) == param)
    }

    @Test("model and messages are required and checked")
    func requiredMembers() throws {
        #expect(try refusedParam(#"{\#(user)}"#) == "model")
        #expect(try refusedParam(#"{"model":"",\#(user)}"#) == "model")
        #expect(try refusedParam(#"{"model":"m"}"#) == "messages")
        #expect(try refusedParam(#"{"model":"m","messages":[]}"#) == "messages")
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"system","content":"x"}]}"#) == "messages")
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#) == "messages[0].role")
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#)
                == "messages[0].content[0]")
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}"#)
                == "messages[1].role")
        #expect(try refusedParam("[1]") == nil)
    }

    @Test("text parts are joined; system messages are read but not routed")
    func parts() throws {
        let request = try read(#"{"model":"m","messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"Where is"},{"type":"text","text":"ORD-1?"}]}]}"#)
        #expect(request.turn == .route("Where is\nORD-1?"))
    }

    @Test("history: tool results after the last user turn are the reply; a tool result must answer an open call")
    func history() throws {
        let call = #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"t","arguments":"{}"}}]}"#
        let answered = try read(#"{"model":"m","messages":[{"role":"user","content":"q"},\#(call),{"role":"tool","tool_call_id":"call_a","content":"42"}]}"#)
        #expect(answered.turn == .toolResults("42"))
        let next = try read(#"{"model":"m","messages":[{"role":"user","content":"q"},\#(call),{"role":"tool","tool_call_id":"call_a","content":"42"},{"role":"user","content":"and now?"}]}"#)
        #expect(next.turn == .route("and now?"))
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"user","content":"q"},{"role":"tool","tool_call_id":"call_a","content":"42"}]}"#)
                == "messages[1].tool_call_id")
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"user","content":"q"},\#(call),{"role":"tool","tool_call_id":"call_a","content":"1"},{"role":"tool","tool_call_id":"call_a","content":"2"}]}"#)
                == "messages[3].tool_call_id")
        #expect(try refusedParam(#"{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"type":"function"}]}]}"#)
                == "messages[1].tool_calls[0].id")
    }

    @Test("inline tools become a catalogue; a named function must be among them; a bad schema names tools")
    func inlineTools() throws {
        let request = try read(#"{"model":"toolrouter",\#(user),"tools":\#(weatherTools),"tool_choice":{"type":"function","function":{"name":"get_weather"}}}"#)
        #expect(request.tools?.names == ["get_weather"] && request.toolChoice == .function("get_weather"))
        #expect(request.toolChoice.toolChoice == .tool("get_weather"))
        #expect(try refusedParam(#"{"model":"m",\#(user),"tools":\#(weatherTools),"tool_choice":{"type":"function","function":{"name":"x"}}}"#) == "tool_choice")
        #expect(try refusedParam(#"{"model":"m",\#(user),"tools":[]}"#) == "tools")
        #expect(try refusedParam(#"{"model":"m",\#(user),"tools":[{"type":"function","function":{"name":"no_tool"}}]}"#) == "tools")
        #expect(try refusedParam(#"{"model":"m",\#(user),"tools":[{"type":"function","function":{"name":"t","parameters":{"type":"object","properties":{"a":{"type":"string","pattern":"(?<=x)"}}}}}]}"#) == "tools")
    }

    @Test("the extension: dispatch and deadline; stream options")
    func extensionMembers() throws {
        let request = try read(#"{"model":"m",\#(user),"stream":true,"stream_options":{"include_usage":true},"toolrouter":{"dispatch":true,"deadline_ms":2500}}"#)
        #expect(request.stream && request.includeUsage && request.dispatch && request.deadlineMs == 2500)
        #expect(try read(#"{"model":"m",\#(user),"tool_choice":"none"}"#).toolChoice.toolChoice == .none)
    }
}

@Suite("OpenAI chat answer")
struct ChatAnswerTests {
    private let call = ToolCall.tool(name: "track_order", arguments: .object([("order_id", .string("ORD-12345"))]))

    @Test("a call: tool_calls with a call_ id, arguments as a JSON string, finish_reason tool_calls, usage")
    func completion() throws {
        let answer = ChatAnswer(model: "support", created: 1, call: call, content: nil, promptTokens: 10, completionTokens: 4, toolrouter: nil)
        let json = answer.completion
        let choice = try #require(json["choices"]?.arrayValue?.first)
        let toolCall = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(toolCall["id"]?.stringValue?.hasPrefix("call_") == true && toolCall["id"]?.stringValue?.count == 29)
        #expect(toolCall["function"]?["arguments"]?.stringValue == #"{"order_id":"ORD-12345"}"#)
        #expect(choice["finish_reason"]?.stringValue == "tool_calls" && choice["message"]?["content"] == .null)
        #expect(json["usage"]?["total_tokens"]?.intValue == 14 && json["object"]?.stringValue == "chat.completion")
        #expect(json["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
        let other = ChatAnswer(model: "support", created: 1, call: call, content: nil, promptTokens: 0, completionTokens: 0, toolrouter: nil)
        #expect(other.call?.id != answer.call?.id && other.id != answer.id)
    }

    @Test("text: content and finish_reason stop")
    func text() throws {
        let answer = ChatAnswer(model: "m", created: 1, call: .noTool(reason: "nothing to do"), content: "nothing to do",
                                promptTokens: 1, completionTokens: 1, toolrouter: nil)
        let choice = try #require(answer.completion["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"]?.stringValue == "stop" && choice["message"]?["content"]?.stringValue == "nothing to do")
        #expect(choice["message"]?["tool_calls"] == nil)
    }

    @Test("the stream's chunks add up to the completion; usage last when asked; [DONE] at the end")
    func stream() throws {
        let answer = ChatAnswer(model: "support", created: 1, call: call, content: nil, promptTokens: 10, completionTokens: 4,
                                toolrouter: .object([("raw", .string("r"))]))
        let events = answer.events(includeUsage: true, piece: 5)
        #expect(events.last == "data: [DONE]\n\n")
        let chunks = try events.dropLast().map { event throws -> JSONValue in
            #expect(event.hasPrefix("data: ") && event.hasSuffix("\n\n"))
            return try JSONParser.parse(String(event.dropFirst(6).dropLast(2)))
        }
        var arguments = "", name: String?, ids: Set<String> = [], finish: String?
        for chunk in chunks {
            #expect(chunk["id"]?.stringValue == answer.id && chunk["object"]?.stringValue == "chat.completion.chunk")
            for choice in chunk["choices"]?.arrayValue ?? [] {
                for delta in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                    if let id = delta["id"]?.stringValue { ids.insert(id) }
                    if let n = delta["function"]?["name"]?.stringValue { name = n }
                    arguments += delta["function"]?["arguments"]?.stringValue ?? ""
                }
                if let f = choice["finish_reason"]?.stringValue { finish = f }
            }
        }
        #expect(name == "track_order" && arguments == #"{"order_id":"ORD-12345"}"# && ids == [answer.call?.id ?? ""] && finish == "tool_calls")
        #expect(chunks.last?["choices"]?.arrayValue?.isEmpty == true && chunks.last?["usage"]?["total_tokens"]?.intValue == 14)
        #expect(chunks.count >= 6, "the arguments come in several pieces")
        #expect(!answer.events(includeUsage: false).contains { $0.contains("\"usage\"") })
    }

    @Test("pieces cut on character boundaries and join back")
    func pieces() {
        let text = "Zürich 🚀 ünïcödé"
        #expect(ChatAnswer.pieces(text, size: 3).joined() == text)
        #expect(ChatAnswer.pieces("", size: 3).isEmpty)
    }
}
