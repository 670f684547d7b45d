// The chat client against a scripted transport: retries with backoff on 429/5xx and lost
// connections, immediate failure on other statuses, response-format fallback, errors that name the URL.

import Foundation
import Testing
import JSON
import Teacher

/// Replays scripted outcomes in order and records what was sent.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    enum Outcome { case reply(HTTPReply), fail(TransportFailure) }
    private let lock = NSLock()
    private var script: [Outcome]
    private(set) var sent: [(url: URL, headers: [String: String], body: JSONValue)] = []

    init(_ script: [Outcome]) { self.script = script }

    func post(_ url: URL, headers: [String: String], body: [UInt8], timeout: Double) async throws(TransportFailure) -> HTTPReply {
        let next: Outcome? = lock.withLock {
            sent.append((url, headers, (try? JSONParser.parse(bytes: body)) ?? .null))
            return script.isEmpty ? nil : script.removeFirst()
        }
        switch next {
        case .reply(let reply)?: return reply
        case .fail(let failure)?: throw failure
        case nil: throw TransportFailure(message: "script exhausted")
        }
    }

    static func completion(_ content: String) -> Outcome {
        let body = JSONWriter.compact(.object([("choices", .array([.object([
            ("message", .object([("role", .string("assistant")), ("content", .string(content))])), ("finish_reason", .string("stop")),
        ])]))]))
        return .reply(HTTPReply(status: 200, body: Array(body.utf8)))
    }

    static func status(_ code: Int, _ body: String = "", headers: [String: String] = [:]) -> Outcome {
        .reply(HTTPReply(status: code, headers: headers, body: Array(body.utf8)))
    }
}

/// Records the waits instead of waiting.
final class SleepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var delays: [Double] = []
    var recorded: [Double] { lock.withLock { delays } }
    var sleeper: Sleeper { { [self] seconds in lock.withLock { delays.append(seconds) } } }
}

@Suite struct ChatClientTests {
    let endpoint = TeacherEndpoint(baseURL: "http://127.0.0.1:9/v1/", model: "teacher-7b", apiKey: "sk-test", timeout: 5)
    let messages = [ChatMessage(role: "user", content: "hi")]
    let schema: JSONValue = .object([("type", .string("object"))])

    func client(_ transport: ScriptedTransport, _ sleeps: SleepLog, format: ResponseFormatMode = .auto) -> ChatClient {
        ChatClient(endpoint: endpoint, transport: transport, retry: RetryPolicy(maxAttempts: 4, baseDelay: 1, maxDelay: 5),
                   responseFormat: format, sleep: sleeps.sleeper)
    }

    @Test func requestCarriesModelMessagesSeedTemperatureAndKey() async throws {
        let transport = ScriptedTransport([ScriptedTransport.completion("ok")])
        let answer = try await client(transport, SleepLog()).complete(messages, temperature: 0.7, seed: 42, maxTokens: 64, schema: nil)
        #expect(answer.content == "ok" && answer.finishReason == "stop")
        let sent = try #require(transport.sent.first)
        #expect(sent.url.absoluteString == "http://127.0.0.1:9/v1/chat/completions")
        #expect(sent.headers["Authorization"] == "Bearer sk-test")
        #expect(JSONWriter.compact(sent.body) == #"{"model":"teacher-7b","messages":[{"role":"user","content":"hi"}],"temperature":0.7,"seed":42,"max_tokens":64,"stream":false}"#)
    }

    @Test func retriesRateLimitsAndServerErrorsWithBackoff() async throws {
        let transport = ScriptedTransport([ScriptedTransport.status(503), ScriptedTransport.status(429, headers: ["retry-after": "3"]),
                                           .fail(TransportFailure(message: "connection lost")), ScriptedTransport.completion("done")])
        let sleeps = SleepLog()
        let chat = client(transport, sleeps)
        let answer = try await chat.complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: nil)
        #expect(answer.content == "done")
        #expect(transport.sent.count == 4)
        #expect(await chat.httpRequests == 4)
        // 1 s, then the server's Retry-After, then 4 s (the third failure's exponential wait).
        #expect(sleeps.recorded == [1, 3, 4])
    }

    @Test func givesUpAfterMaxAttemptsNamingURLStatusAndBody() async {
        let transport = ScriptedTransport(Array(repeating: ScriptedTransport.status(502, "upstream\nexploded"), count: 6))
        let sleeps = SleepLog()
        let error = await #expect(throws: TeacherError.self) {
            _ = try await client(transport, sleeps).complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: nil)
        }
        #expect(error == .http(url: "http://127.0.0.1:9/v1/chat/completions", status: 502, body: "upstream exploded", attempts: 4))
        #expect(error?.description == "teacher http://127.0.0.1:9/v1/chat/completions answered HTTP 502 after 4 attempts: upstream exploded")
        #expect(transport.sent.count == 4)
        #expect(sleeps.recorded == [1, 2, 4])
    }

    @Test func clientErrorsAreNotRetried() async {
        let transport = ScriptedTransport([ScriptedTransport.status(404, #"{"error": "model not found"}"#), ScriptedTransport.completion("never")])
        let sleeps = SleepLog()
        let error = await #expect(throws: TeacherError.self) {
            _ = try await client(transport, sleeps).complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: nil)
        }
        #expect(error == .http(url: "http://127.0.0.1:9/v1/chat/completions", status: 404, body: #"{"error": "model not found"}"#, attempts: 1))
        #expect(transport.sent.count == 1 && sleeps.recorded.isEmpty)
    }

    @Test func unreachableServerIsReportedAfterRetries() async {
        let transport = ScriptedTransport(Array(repeating: .fail(TransportFailure(message: "connection refused")), count: 4))
        let error = await #expect(throws: TeacherError.self) {
            _ = try await client(transport, SleepLog()).complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: nil)
        }
        #expect(error == .unreachable(url: "http://127.0.0.1:9/v1/chat/completions", reason: "connection refused", attempts: 4))
    }

    @Test func rejectedResponseFormatFallsBackAndStays() async throws {
        let transport = ScriptedTransport([ScriptedTransport.status(422, "unknown response_format type"), ScriptedTransport.completion("a"),
                                           ScriptedTransport.completion("b")])
        let sleeps = SleepLog()
        let chat = client(transport, sleeps)
        _ = try await chat.complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: schema)
        _ = try await chat.complete(messages, temperature: 0, seed: 2, maxTokens: 8, schema: schema)
        let formats = transport.sent.map { $0.body["response_format"]?["type"]?.stringValue }
        #expect(formats == ["json_schema", "json_object", "json_object"])
        #expect(transport.sent[1].body["response_format"]?["schema"] == schema)
        #expect(await chat.responseFormat == .jsonObject)
        #expect(sleeps.recorded.isEmpty, "a format fallback is not a retry")
    }

    @Test func serverErrorNamingResponseFormatFallsBackWithoutRetrying() async throws {
        // llama-cpp-python answers an unknown format type with HTTP 500 and a pydantic message.
        let refusal = #"{"error": {"message": "('body', 'response_format', 'type') Input should be 'text' or 'json_object'"}}"#
        let transport = ScriptedTransport([ScriptedTransport.status(500, refusal), ScriptedTransport.completion("a")])
        let sleeps = SleepLog()
        let chat = client(transport, sleeps)
        _ = try await chat.complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: schema)
        #expect(transport.sent.map { $0.body["response_format"]?["type"]?.stringValue } == ["json_schema", "json_object"])
        #expect(sleeps.recorded.isEmpty)
    }

    @Test func fixedFormatIsNotNegotiated() async {
        let transport = ScriptedTransport([ScriptedTransport.status(400, "bad format")])
        let error = await #expect(throws: TeacherError.self) {
            _ = try await client(transport, SleepLog(), format: .jsonSchema).complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: schema)
        }
        #expect(error == .http(url: "http://127.0.0.1:9/v1/chat/completions", status: 400, body: "bad format", attempts: 1))
    }

    @Test func successThatIsNotACompletionIsMalformed() async {
        let transport = ScriptedTransport([ScriptedTransport.status(200, #"{"object": "list"}"#)])
        let error = await #expect(throws: TeacherError.self) {
            _ = try await client(transport, SleepLog()).complete(messages, temperature: 0, seed: 1, maxTokens: 8, schema: nil)
        }
        #expect(error == .malformedResponse(url: "http://127.0.0.1:9/v1/chat/completions", reason: "no choices", body: #"{"object": "list"}"#))
    }

    @Test func backoffDoublesUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 0.5, maxDelay: 6)
        #expect((1...6).map { policy.delay(afterAttempt: $0, retryAfter: nil) } == [0.5, 1, 2, 4, 6, 6])
        #expect(policy.delay(afterAttempt: 1, retryAfter: 60) == 6)
        #expect(RetryPolicy.isRetryable(status: 429) && RetryPolicy.isRetryable(status: 500) && !RetryPolicy.isRetryable(status: 401))
    }

    @Test func apiKeyAndURLSettings() throws {
        #expect(try TeacherEndpoint.apiKey(variable: nil, environment: ["OPENAI_API_KEY": "k1"]) == "k1")
        #expect(try TeacherEndpoint.apiKey(variable: nil, environment: [:]) == nil)
        #expect(try TeacherEndpoint.apiKey(variable: "MY_KEY", environment: ["MY_KEY": "k2", "OPENAI_API_KEY": "k1"]) == "k2")
        #expect(throws: TeacherError.configuration("--teacher-key-env names MY_KEY, which is not set")) {
            try TeacherEndpoint.apiKey(variable: "MY_KEY", environment: ["OPENAI_API_KEY": "k1"])
        }
        #expect(throws: TeacherError.self) { try TeacherEndpoint(baseURL: "127.0.0.1:8089", model: "m").chatURL() }
        #expect(try TeacherEndpoint(baseURL: "https://api.example.test/v1", model: "m").chatURL().absoluteString
                == "https://api.example.test/v1/chat/completions")
    }
}
