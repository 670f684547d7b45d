// A chat completion in OpenAI's shapes: one `chat.completion` object, or the same answer as a stream of
// `chat.completion.chunk` server-sent events ending in `data: [DONE]`.
//
// The stream is written once the call is decided and validated, never before: a client never sees the
// start of a call that would then fail validation. Its chunks are the ones OpenAI's clients accumulate:
// the role, then the call's id, type and name with empty arguments, then the arguments in pieces, then
// the finish reason (and, when asked, a last chunk with the usage and no choices).

import JSON
import ToolCalls

/// The answer to one chat request, before it is written in either shape.
public struct ChatAnswer: Sendable {
    /// `chatcmpl-…`.
    public var id: String
    /// Unix seconds.
    public var created: Int
    /// The `model` the request named.
    public var model: String
    /// The decided call (nil: a text reply).
    public var call: (name: String, arguments: String, id: String)?
    /// The text reply: a `no_tool` reason, or tool results (nil for a call).
    public var content: String?
    /// Prompt and generated token counts.
    public var promptTokens: Int
    public var completionTokens: Int
    /// ToolRouter's own members (`catalogue`, `raw`, `timings`, a dispatched call's `result`), sent as
    /// `toolrouter` beside OpenAI's.
    public var toolrouter: JSONValue?

    /// An answer with a new completion id.
    public init(model: String, created: Int, call: ToolCall?, content: String?, promptTokens: Int, completionTokens: Int,
                toolrouter: JSONValue?) {
        self.id = "chatcmpl-" + Self.randomID()
        self.created = created
        self.model = model
        if case .tool(let name, let arguments)? = call {
            self.call = (name, JSONWriter.compact(arguments), "call_" + Self.randomID())
        }
        self.content = content
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.toolrouter = toolrouter
    }

    /// `tool_calls` for a call, `stop` for text.
    public var finishReason: String { call == nil ? "stop" : "tool_calls" }

    /// The `chat.completion` object.
    public var completion: JSONValue {
        var message: [(key: String, value: JSONValue)] = [("role", .string("assistant")), ("content", content.map(JSONValue.string) ?? .null)]
        if let call {
            message.append(("tool_calls", .array([.object([
                ("id", .string(call.id)), ("type", .string("function")),
                ("function", .object([("name", .string(call.name)), ("arguments", .string(call.arguments))])),
            ])])))
        }
        message.append(("refusal", .null))
        var members = header(object: "chat.completion")
        members.append(("choices", .array([.object([("index", .number(JSONNumber(0))), ("message", .object(message)), ("logprobs", .null),
                                                    ("finish_reason", .string(finishReason))])])))
        members.append(("usage", usage))
        if let toolrouter { members.append(("toolrouter", toolrouter)) }
        return .object(members)
    }

    /// The server-sent events of the streamed answer, each `data: {chunk}\n\n`, the last `data: [DONE]\n\n`.
    public func events(includeUsage: Bool, piece: Int = 24) -> [String] {
        var chunks: [JSONValue] = [chunk(delta: .object([("role", .string("assistant")), ("content", content == nil ? .null : .string(""))]))]
        if let call {
            chunks.append(chunk(delta: .object([("tool_calls", .array([.object([
                ("index", .number(JSONNumber(0))), ("id", .string(call.id)), ("type", .string("function")),
                ("function", .object([("name", .string(call.name)), ("arguments", .string(""))])),
            ])]))])))
            for part in Self.pieces(call.arguments, size: piece) {
                chunks.append(chunk(delta: .object([("tool_calls", .array([.object([
                    ("index", .number(JSONNumber(0))), ("function", .object([("arguments", .string(part))])),
                ])]))])))
            }
        } else if let content {
            for part in Self.pieces(content, size: piece) { chunks.append(chunk(delta: .object([("content", .string(part))]))) }
        }
        chunks.append(chunk(delta: .object([]), finish: finishReason, extra: toolrouter.map { [("toolrouter", $0)] } ?? []))
        if includeUsage {
            var members = header(object: "chat.completion.chunk")
            members.append(("choices", .array([])))
            members.append(("usage", usage))
            chunks.append(.object(members))
        }
        return chunks.map { "data: " + JSONWriter.compact($0) + "\n\n" } + ["data: [DONE]\n\n"]
    }

    private var usage: JSONValue {
        .object([("prompt_tokens", .number(JSONNumber(promptTokens))), ("completion_tokens", .number(JSONNumber(completionTokens))),
                 ("total_tokens", .number(JSONNumber(promptTokens + completionTokens)))])
    }

    private func header(object: String) -> [(key: String, value: JSONValue)] {
        [("id", .string(id)), ("object", .string(object)), ("created", .number(JSONNumber(created))), ("model", .string(model)),
         ("system_fingerprint", .null)]
    }

    private func chunk(delta: JSONValue, finish: String? = nil, extra: [(key: String, value: JSONValue)] = []) -> JSONValue {
        var members = header(object: "chat.completion.chunk")
        members.append(("choices", .array([.object([("index", .number(JSONNumber(0))), ("delta", delta), ("logprobs", .null),
                                                    ("finish_reason", finish.map(JSONValue.string) ?? .null)])])))
        members += extra
        return .object(members)
    }

    /// `text` cut into pieces of at most `size` characters.
    static func pieces(_ text: String, size: Int) -> [String] {
        guard !text.isEmpty else { return [] }
        var out: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let end = text.index(index, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            out.append(String(text[index..<end]))
            index = end
        }
        return out
    }

    /// 24 characters from [A-Za-z0-9]: ids only need to be unique, not secret.
    static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}

/// `GET /v1/models`: every catalogue, and the base model for tools sent with the request.
public enum OpenAIModels {
    /// The model name for requests that bring their own `tools`: the base model, no adapter.
    public static let baseModel = "toolrouter"

    /// The `list` object naming `catalogues` and the base model.
    public static func list(catalogues: [String], created: Int) -> JSONValue {
        .object([("object", .string("list")), ("data", .array((catalogues + [baseModel]).map { name in
            .object([("id", .string(name)), ("object", .string("model")), ("created", .number(JSONNumber(created))),
                     ("owned_by", .string("toolrouter"))])
        }))])
    }
}
