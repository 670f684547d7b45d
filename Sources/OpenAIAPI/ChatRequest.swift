// A `POST /v1/chat/completions` body, read strictly: every parameter is either honoured or refused with
// an error naming it. A router that accepted `temperature: 0.8` or `n: 3` and answered as if they were
// absent would be lying to its client, which is the field's most common complaint about tool calling.
//
// How the conversation is used. The router decides one call for one request, and its adapters were
// trained on exactly that prompt: the catalogue's system turn, then one user turn. So:
// - the request routed is the text of the last `user` message; earlier turns are checked for shape
//   (roles, tool-call ids) but not rendered, and `system`/`developer` messages are not rendered either
//   (the catalogue's system prompt is the one the adapter learnt);
// - when `tool` messages come after the last user message, that request has been answered already: an
//   agent loop is asking for the final reply after running the call. A router writes no prose, so the
//   reply is the tool results' text (`finish_reason` "stop"), decided without the model.

import JSON
import ToolCalls

/// Which answers a chat request allows (`tool_choice`).
public enum ChatToolChoice: Sendable, Equatable {
    case auto, required, none
    /// `{"type": "function", "function": {"name": NAME}}`.
    case function(String)

    /// The router's form.
    public var toolChoice: ToolChoice {
        switch self {
        case .auto: return .auto
        case .required: return .required
        case .none: return .none
        case .function(let name): return .tool(name)
        }
    }
}

/// What the conversation asks of the router.
public enum ChatTurn: Sendable, Equatable {
    /// Route this text (the last user message).
    case route(String)
    /// The last user message was already answered by these tool results: reply with their text.
    case toolResults(String)
}

/// A chat-completions request the router can answer.
public struct ChatRequest: Sendable {
    /// A catalogue name, or `OpenAIModels.baseModel` for tools sent with the request.
    public var model: String
    /// What to do: route a request, or reply with tool results.
    public var turn: ChatTurn
    /// Inline `tools`, read as a catalogue (nil: the model's catalogue).
    public var tools: ToolCatalogue?
    /// `tool_choice`.
    public var toolChoice: ChatToolChoice
    /// `stream`: answer as server-sent events.
    public var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the token counts.
    public var includeUsage: Bool
    /// The `toolrouter` extension's `dispatch`: run the call through its registered handler.
    public var dispatch: Bool
    /// The `toolrouter` extension's `deadline_ms`.
    public var deadlineMs: Int?

    /// The longest routed message accepted, in UTF-8 bytes (the agent protocol's `input` limit).
    public static let maxInputBytes = 16 * 1024
    /// The longest deadline accepted (one hour).
    public static let maxDeadlineMs = 3_600_000

    /// Reads a parsed request body; a refused parameter throws an error naming it.
    public init(json body: JSONValue) throws(OpenAIError) {
        guard let members = body.objectMembers else { throw .invalid(param: nil, "the request body must be a JSON object, got \(OpenAIError.kind(body))") }
        var seen = Set<String>()
        for member in members {
            guard seen.insert(member.key).inserted else { throw .invalid(param: member.key, "appears twice") }
            try Self.checkSupported(member.key, member.value)
        }
        guard let modelValue = body["model"] else { throw .invalid(param: "model", "missing: name a catalogue (GET /v1/models lists them)") }
        guard let model = modelValue.stringValue, !model.isEmpty else { throw .invalid(param: "model", "expected a non-empty string") }
        self.model = model
        guard let messages = body["messages"] else { throw .invalid(param: "messages", "missing") }
        turn = try Self.readMessages(messages)
        if let tools = body["tools"], tools != .null {
            guard case .array(let entries) = tools, !entries.isEmpty else { throw .invalid(param: "tools", "expected a non-empty array of tools") }
            do { self.tools = try ToolCatalogue(json: tools) } catch {
                throw .invalid(param: "tools", "\(error)")
            }
        } else {
            self.tools = nil
        }
        toolChoice = try Self.readToolChoice(body["tool_choice"], tools: self.tools)
        stream = try Self.bool(body["stream"], param: "stream") ?? false
        includeUsage = false
        if let options = body["stream_options"], options != .null {
            guard stream else { throw .invalid(param: "stream_options", "only allowed when stream is true") }
            guard let optionMembers = options.objectMembers else { throw .invalid(param: "stream_options", "expected an object") }
            for member in optionMembers where member.key != "include_usage" {
                throw .invalid(param: "stream_options.\(member.key)", "not supported (stream_options takes include_usage)")
            }
            includeUsage = try Self.bool(options["include_usage"], param: "stream_options.include_usage") ?? false
        }
        dispatch = false
        deadlineMs = nil
        if let ext = body["toolrouter"], ext != .null {
            guard let extMembers = ext.objectMembers else { throw .invalid(param: "toolrouter", "expected an object") }
            for member in extMembers where !["dispatch", "deadline_ms"].contains(member.key) {
                throw .invalid(param: "toolrouter.\(member.key)", "unknown (the extension takes dispatch and deadline_ms)")
            }
            dispatch = try Self.bool(ext["dispatch"], param: "toolrouter.dispatch") ?? false
            if let value = ext["deadline_ms"], value != .null {
                guard let ms = value.intValue, (1...Self.maxDeadlineMs).contains(ms) else {
                    throw .invalid(param: "toolrouter.deadline_ms", "expected an integer between 1 and \(Self.maxDeadlineMs)")
                }
                deadlineMs = ms
            }
        }
    }

    // MARK: Parameters

    /// The parameters read above, and the ones accepted because they cannot change a greedy, single,
    /// grammar-constrained answer.
    private static let handled: Set<String> = ["model", "messages", "tools", "tool_choice", "stream", "stream_options", "toolrouter"]

    /// Refuses what is unknown or would change the answer; checks the harmless ones' values.
    private static func checkSupported(_ key: String, _ value: JSONValue) throws(OpenAIError) {
        if handled.contains(key) { return }
        if value == .null { return }   // an explicit null is the parameter's default
        switch key {
        case "n":
            guard value.intValue == 1 else { throw .invalid(param: key, "only 1 is supported: one greedy answer per request") }
        case "temperature":
            guard value.doubleValue == 0 else { throw .invalid(param: key, "only 0 is supported: decoding is greedy") }
        case "top_p":
            // The nucleus always holds the most likely token, so top_p never changes a greedy answer.
            guard let p = value.doubleValue, p > 0, p <= 1 else { throw .invalid(param: key, "expected a number in (0, 1]") }
        case "seed":
            guard value.intValue != nil else { throw .invalid(param: key, "expected an integer") }   // greedy: nothing to seed
        case "frequency_penalty", "presence_penalty":
            guard value.doubleValue == 0 else { throw .invalid(param: key, "only 0 is supported: penalties would change the answer") }
        case "logit_bias":
            guard value.objectMembers?.isEmpty == true else { throw .invalid(param: key, "not supported: biases would change the answer") }
        case "logprobs":
            guard value == .bool(false) else { throw .invalid(param: key, "not supported") }
        case "top_logprobs":
            throw .invalid(param: key, "not supported")
        case "parallel_tool_calls":
            guard value == .bool(false) else { throw .invalid(param: key, "true is not supported: the router decides one call per request") }
        case "response_format":
            guard value["type"]?.stringValue == "text", value.objectMembers?.count == 1 else {
                throw .invalid(param: key, "only {\"type\": \"text\"} is supported: the answer is a tool call, shaped by the tools' schemas")
            }
        case "user":
            guard value.stringValue != nil else { throw .invalid(param: key, "expected a string") }
        case "store":
            guard value == .bool(false) else { throw .invalid(param: key, "true is not supported: nothing is stored") }
        case "max_tokens", "max_completion_tokens", "stop":
            throw .invalid(param: key, "not supported: the tools' grammar decides where the answer ends (the daemon's max_tokens bounds it)")
        case "functions", "function_call":
            throw .invalid(param: key, "not supported: use tools and tool_choice")
        default:
            throw .invalid(param: key, "unknown or unsupported parameter")
        }
    }

    private static func bool(_ value: JSONValue?, param: String) throws(OpenAIError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let flag) = value else { throw .invalid(param: param, "expected true or false") }
        return flag
    }

    private static func readToolChoice(_ value: JSONValue?, tools: ToolCatalogue?) throws(OpenAIError) -> ChatToolChoice {
        guard let value, value != .null else { return .auto }
        switch value.stringValue {
        case "auto"?: return .auto
        case "required"?: return .required
        case "none"?: return .none
        case let other?: throw .invalid(param: "tool_choice", "expected \"auto\", \"required\", \"none\" or a function object, got \"\(other)\"")
        case nil: break
        }
        guard value["type"]?.stringValue == "function", let name = value["function"]?["name"]?.stringValue, !name.isEmpty else {
            throw .invalid(param: "tool_choice", "expected {\"type\": \"function\", \"function\": {\"name\": NAME}}")
        }
        if let tools, tools.tool(named: name) == nil {
            throw .invalid(param: "tool_choice", "names function '\(name)', which is not among the request's tools")
        }
        return .function(name)
    }

    // MARK: Messages

    /// Checks the conversation's shape and finds what to answer (see the file header).
    private static func readMessages(_ value: JSONValue) throws(OpenAIError) -> ChatTurn {
        guard case .array(let messages) = value, !messages.isEmpty else { throw .invalid(param: "messages", "expected a non-empty array") }
        var lastUser: (index: Int, text: String)?
        var openCalls = Set<String>()     // tool call ids of assistant messages not answered yet
        var resultsAfterUser: [String] = []
        for (index, message) in messages.enumerated() {
            let param = "messages[\(index)]"
            guard message.objectMembers != nil else { throw .invalid(param: param, "expected an object") }
            guard let role = message["role"]?.stringValue else { throw .invalid(param: "\(param).role", "missing or not a string") }
            switch role {
            case "system", "developer":
                _ = try text(message["content"], param: "\(param).content", allowNull: false)
            case "user":
                let content = try text(message["content"], param: "\(param).content", allowNull: false)
                guard !content.isEmpty else { throw .invalid(param: "\(param).content", "empty") }
                lastUser = (index, content)
                resultsAfterUser = []
                openCalls = []
            case "assistant":
                _ = try text(message["content"], param: "\(param).content", allowNull: true)
                if let calls = message["tool_calls"], calls != .null {
                    guard case .array(let items) = calls else { throw .invalid(param: "\(param).tool_calls", "expected an array") }
                    for (callIndex, call) in items.enumerated() {
                        guard let id = call["id"]?.stringValue, !id.isEmpty else {
                            throw .invalid(param: "\(param).tool_calls[\(callIndex)].id", "missing or empty")
                        }
                        openCalls.insert(id)
                    }
                }
            case "tool":
                guard let id = message["tool_call_id"]?.stringValue else { throw .invalid(param: "\(param).tool_call_id", "missing or not a string") }
                guard openCalls.remove(id) != nil else {
                    throw .invalid(param: "\(param).tool_call_id", "'\(id)' answers no tool call of an earlier assistant message (or answers it twice)")
                }
                let content = try text(message["content"], param: "\(param).content", allowNull: false)
                if lastUser != nil { resultsAfterUser.append(content) }
            default:
                throw .invalid(param: "\(param).role", "expected system, developer, user, assistant or tool, got \"\(role)\"")
            }
        }
        guard let lastUser else { throw .invalid(param: "messages", "no user message: there is no request to route") }
        let last = messages[messages.count - 1]["role"]?.stringValue
        switch last {
        case "user":
            guard lastUser.text.utf8.count <= maxInputBytes else {
                throw .invalid(param: "messages[\(lastUser.index)].content", "longer than \(maxInputBytes) bytes (\(lastUser.text.utf8.count))")
            }
            return .route(lastUser.text)
        case "tool" where !resultsAfterUser.isEmpty:
            return .toolResults(resultsAfterUser.joined(separator: "\n"))
        default:
            throw .invalid(param: "messages[\(messages.count - 1)].role",
                           "the last message must be the user's request or the results of the calls made for it")
        }
    }

    /// A message's text: a string, or an array of `{"type": "text", "text": …}` parts (joined).
    private static func text(_ value: JSONValue?, param: String, allowNull: Bool) throws(OpenAIError) -> String {
        guard let value, value != .null else {
            if allowNull { return "" }
            throw .invalid(param: param, "missing")
        }
        if let text = value.stringValue { return text }
        guard case .array(let parts) = value else { throw .invalid(param: param, "expected a string or an array of text parts") }
        var texts: [String] = []
        for (index, part) in parts.enumerated() {
            guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                throw .invalid(param: "\(param)[\(index)]", "only text parts are supported")
            }
            texts.append(text)
        }
        return texts.joined(separator: "\n")
    }
}
