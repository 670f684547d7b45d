// An OpenAI-compatible chat-completions client: POST {base URL}/chat/completions with the model,
// messages, temperature, seed and (when the server takes it) a JSON schema for the answer.
//
// Retries: 429 and 5xx responses and transport failures are retried with exponential backoff (the
// server's Retry-After when it sends one, capped); other statuses fail at once, since repeating a
// request the server refused as malformed cannot help. Structured output is negotiated: OpenAI's
// `json_schema` format first, then llama.cpp's `json_object` with a `schema`, then plain text. A 400
// or 422 (or an error naming `response_format`) while a format is set moves to the next one for the
// rest of the session — servers that do not know a format reject it that way, and the parser copes
// with plain text anyway.

import Foundation
import JSON

/// Where the teacher is and how to talk to it.
public struct TeacherEndpoint: Sendable {
    /// The API base, e.g. `http://127.0.0.1:8089/v1`; requests go to `{baseURL}/chat/completions`.
    public var baseURL: String
    /// The `model` field of every request.
    public var model: String
    /// Sent as `Authorization: Bearer …` when set.
    public var apiKey: String?
    /// Seconds one HTTP request may take, answer included.
    public var timeout: Double

    /// An endpoint.
    public init(baseURL: String, model: String, apiKey: String? = nil, timeout: Double = 180) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
    }

    /// `{baseURL}/chat/completions`, or why the base URL cannot be used.
    public func chatURL() throws(TeacherError) -> URL {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base + "/chat/completions"), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            throw .configuration("\(JSONWriter.quoted(baseURL)) is not an http(s) URL (expected e.g. http://127.0.0.1:8089/v1)")
        }
        return url
    }

    /// The API key: from `variable` when given (which must then be set), else `$OPENAI_API_KEY` if set.
    public static func apiKey(variable: String?, environment: [String: String]) throws(TeacherError) -> String? {
        if let variable {
            guard let key = environment[variable], !key.isEmpty else {
                throw .configuration("--teacher-key-env names \(variable), which is not set")
            }
            return key
        }
        guard let key = environment["OPENAI_API_KEY"], !key.isEmpty else { return nil }
        return key
    }
}

/// How to ask for structured output.
public enum ResponseFormatMode: String, Sendable, CaseIterable {
    /// Try `json_schema`, then `json_object` with a schema, then none, as the server accepts.
    case auto
    /// OpenAI's `{"type": "json_schema", "json_schema": {"name", "schema"}}` only.
    case jsonSchema = "json_schema"
    /// llama.cpp's `{"type": "json_object", "schema": …}` only.
    case jsonObject = "json_object"
    /// No `response_format`: the answer is free text, parsed leniently.
    case none
}

/// When and how long to wait before trying a request again.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries in all, the first included.
    public var maxAttempts: Int
    /// The wait before the second try; it doubles for each later one.
    public var baseDelay: Double
    /// No wait is longer than this, whatever the server's Retry-After says.
    public var maxDelay: Double

    /// A policy.
    public init(maxAttempts: Int = 4, baseDelay: Double = 1, maxDelay: Double = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait after failed try number `attempt` (1-based). No jitter: there is one client,
    /// and a fixed schedule keeps runs (and tests) reproducible.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        let exponential = baseDelay * Double(1 << min(max(attempt - 1, 0), 20))
        return min(maxDelay, max(0, retryAfter ?? exponential))
    }

    /// 429 (rate limited) and 5xx (server trouble) may succeed later; other statuses will not.
    public static func isRetryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) }
}

/// One chat message.
public struct ChatMessage: Sendable, Equatable {
    /// "system", "user" or "assistant".
    public var role: String
    /// The text.
    public var content: String

    /// A message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The first choice of a chat completion.
public struct ChatAnswer: Sendable, Equatable {
    /// The assistant's text.
    public var content: String
    /// Why generation stopped ("stop", "length", …), when the server says.
    public var finishReason: String?
}

/// Waits the given number of seconds (injected so tests need not wait).
public typealias Sleeper = @Sendable (Double) async -> Void

/// A chat-completions client for one endpoint. An actor: it remembers which response format the
/// server accepted and counts the HTTP requests it sent.
public actor ChatClient {
    private let endpoint: TeacherEndpoint
    private let transport: any HTTPTransport
    private let retry: RetryPolicy
    private let sleep: Sleeper
    /// Formats still to try, the one in use first; never empty (ends with `.none`).
    private var formats: [ResponseFormatMode]
    /// HTTP requests sent, retries and format fallbacks included.
    public private(set) var httpRequests = 0

    /// A client. `responseFormat` `.auto` negotiates; any other mode is used as is.
    public init(endpoint: TeacherEndpoint, transport: any HTTPTransport = URLSessionTransport(), retry: RetryPolicy = RetryPolicy(),
                responseFormat: ResponseFormatMode = .auto,
                sleep: @escaping Sleeper = { seconds in try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9)) }) {
        self.endpoint = endpoint
        self.transport = transport
        self.retry = retry
        self.sleep = sleep
        formats = responseFormat == .auto ? [.jsonSchema, .jsonObject, .none] : [responseFormat]
    }

    /// The response format the next request will use.
    public var responseFormat: ResponseFormatMode { formats[0] }

    /// Sends `messages` and returns the first choice's text. `schema` (the answer's JSON schema) is
    /// sent in the negotiated response format; nil sends none.
    public func complete(_ messages: [ChatMessage], temperature: Double, seed: UInt64, maxTokens: Int,
                         schema: JSONValue?) async throws(TeacherError) -> ChatAnswer {
        let url = try endpoint.chatURL()
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let key = endpoint.apiKey { headers["Authorization"] = "Bearer \(key)" }
        var attempt = 0
        while true {
            let format: ResponseFormatMode = schema == nil ? .none : formats[0]
            let body = Array(JSONWriter.compact(requestBody(messages, temperature: temperature, seed: seed, maxTokens: maxTokens,
                                                            format: format, schema: schema)).utf8)
            attempt += 1
            httpRequests += 1
            let reply: HTTPReply
            do {
                reply = try await transport.post(url, headers: headers, body: body, timeout: endpoint.timeout)
            } catch {
                guard attempt < retry.maxAttempts else { throw .unreachable(url: url.absoluteString, reason: error.message, attempts: attempt) }
                await sleep(retry.delay(afterAttempt: attempt, retryAfter: nil))
                continue
            }
            if (200..<300).contains(reply.status) { return try Self.answer(from: reply.body, url: url) }
            if format != .none && formats.count > 1 && Self.refusesFormat(reply) {
                // The server does not take this response format: use the next for this and later requests.
                formats.removeFirst()
                attempt -= 1
                continue
            }
            guard RetryPolicy.isRetryable(status: reply.status), attempt < retry.maxAttempts else {
                throw .http(url: url.absoluteString, status: reply.status, body: TeacherError.excerpt(reply.body), attempts: attempt)
            }
            await sleep(retry.delay(afterAttempt: attempt, retryAfter: reply.headers["retry-after"].flatMap(Double.init)))
        }
    }

    /// Whether a failed reply refuses the response format: a 400 or 422, or any error that names
    /// `response_format` (llama-cpp-python reports its request validation errors as HTTP 500).
    static func refusesFormat(_ reply: HTTPReply) -> Bool {
        reply.status == 400 || reply.status == 422 || String(decoding: reply.body, as: UTF8.self).contains("response_format")
    }

    private func requestBody(_ messages: [ChatMessage], temperature: Double, seed: UInt64, maxTokens: Int,
                             format: ResponseFormatMode, schema: JSONValue?) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("model", .string(endpoint.model)),
            ("messages", .array(messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) })),
            ("temperature", .number(JSONNumber(temperature))),
            // Servers keep seeds in 32 or 64 bits, signed or not: a 31-bit seed fits all of them.
            ("seed", .number(JSONNumber(Int(seed & 0x7fff_ffff)))),
            ("max_tokens", .number(JSONNumber(maxTokens))),
            ("stream", .bool(false)),
        ]
        if let schema {
            switch format {
            case .jsonSchema, .auto:
                members.append(("response_format", .object([
                    ("type", .string("json_schema")),
                    ("json_schema", .object([("name", .string("rows")), ("schema", schema)])),
                ])))
            case .jsonObject:
                members.append(("response_format", .object([("type", .string("json_object")), ("schema", schema)])))
            case .none:
                break
            }
        }
        return .object(members)
    }

    private static func answer(from body: [UInt8], url: URL) throws(TeacherError) -> ChatAnswer {
        let excerpt = TeacherError.excerpt(body)
        guard let value = try? JSONParser.parse(bytes: body) else {
            throw .malformedResponse(url: url.absoluteString, reason: "not JSON", body: excerpt)
        }
        guard let choice = value["choices"]?.arrayValue?.first else {
            throw .malformedResponse(url: url.absoluteString, reason: "no choices", body: excerpt)
        }
        guard let content = choice["message"]?["content"]?.stringValue else {
            throw .malformedResponse(url: url.absoluteString, reason: "choices[0].message.content is not a string", body: excerpt)
        }
        return ChatAnswer(content: content, finishReason: choice["finish_reason"]?.stringValue)
    }
}
