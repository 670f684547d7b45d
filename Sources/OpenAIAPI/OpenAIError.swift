// OpenAI's error object, `{"error": {"message", "type", "param", "code"}}`, and the HTTP status it goes with.

import JSON

/// An error answer of the OpenAI-compatible API.
public struct OpenAIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// What went wrong, in words.
    public var message: String
    /// OpenAI's error type: `invalid_request_error` for the client's mistakes, `server_error` otherwise.
    public var type: String
    /// The parameter at fault (`messages[2].tool_call_id`, `n`), when one is.
    public var param: String?
    /// A machine-readable code (`model_not_found`, `handler_timed_out`), when there is one.
    public var code: String?
    /// ToolRouter's detail (the decoded call a handler failed on, validation issues), beside OpenAI's members.
    public var detail: JSONValue?

    /// An error; the type follows from the status.
    public init(status: Int, message: String, param: String? = nil, code: String? = nil, detail: JSONValue? = nil) {
        self.status = status
        self.message = message
        self.type = status >= 500 ? "server_error" : "invalid_request_error"
        self.param = param
        self.code = code
        self.detail = detail
    }

    /// A 400 naming the parameter: `param: problem`.
    public static func invalid(param: String?, _ problem: String) -> OpenAIError {
        OpenAIError(status: 400, message: param.map { "\($0): \(problem)" } ?? problem, param: param, code: "invalid_value")
    }

    public var description: String { "\(status) \(message)" }

    /// The response body.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("message", .string(message)), ("type", .string(type)),
            ("param", param.map(JSONValue.string) ?? .null), ("code", code.map(JSONValue.string) ?? .null),
        ]
        if let detail { members.append(("toolrouter", detail)) }
        return .object([("error", .object(members))])
    }

    /// A value's JSON kind, for messages.
    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
