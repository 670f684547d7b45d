// The agent protocol: newline-delimited JSON-RPC 2.0 requests and the methods they name.
//
// Decoding happens in two steps so each failure gets its JSON-RPC code: a line becomes an
// `RPCRequest` (or a parse error / invalid request), and a request becomes an `AgentMethod`
// (or method not found / invalid params).

import JSON
import ToolCalls

/// One JSON-RPC 2.0 request as read from a line.
public struct RPCRequest: Sendable, Equatable {
    /// The id: a string, a number or null. Nil when absent, which makes the request a notification.
    public var id: JSONValue?
    /// The method name.
    public var method: String
    /// The params: an object or an array, or nil when absent.
    public var params: JSONValue?

    /// A request.
    public init(id: JSONValue?, method: String, params: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// True for a notification (no id): JSON-RPC says it gets no response.
    public var isNotification: Bool { id == nil }

    /// The id to answer with (`null` for a notification).
    public var responseID: JSONValue { id ?? .null }

    /// Decodes one framed line. Bytes that are not JSON (invalid UTF-8 included) give a parse
    /// error with id null; JSON that is not a request object gives an invalid request carrying the
    /// id when one could be read.
    public static func decode(line: [UInt8], limits: JSONLimits = .protocolLine(maxBytes: 1 << 20)) -> Result<RPCRequest, RPCErrorResponse> {
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(bytes: line, limits: limits)
        } catch {
            return .failure(RPCErrorResponse(id: .null, error: RPCError(.parseError, "parse error: \(abbreviated(error.description, limit: 200))")))
        }
        func invalid(_ message: String, id: JSONValue = .null) -> Result<RPCRequest, RPCErrorResponse> {
            .failure(RPCErrorResponse(id: id, error: RPCError(.invalidRequest, "invalid request: \(message)")))
        }
        if case .array = value { return invalid("batches are not supported; send one request per line") }
        guard let members = value.objectMembers else { return invalid("expected a request object, got \(typeName(value))") }

        let id = value["id"]
        if let id {
            switch id {
            case .string, .number, .null: break
            default: return invalid("id must be a string, a number or null, got \(typeName(id))")
            }
        }
        let answerID = id ?? .null
        for member in members where !["jsonrpc", "id", "method", "params"].contains(member.key) {
            return invalid("unknown member \(JSONWriter.quoted(abbreviated(member.key)))", id: answerID)
        }
        guard value["jsonrpc"] == .string("2.0") else {
            return invalid("\"jsonrpc\" must be \"2.0\"", id: answerID)
        }
        guard let methodValue = value["method"] else { return invalid("missing \"method\"", id: answerID) }
        guard let method = methodValue.stringValue else {
            return invalid("\"method\" must be a string, got \(typeName(methodValue))", id: answerID)
        }
        let params = value["params"]
        switch params {
        case nil, .object?, .array?: break
        case let other?: return invalid("\"params\" must be an object or an array, got \(typeName(other))", id: answerID)
        }
        return .success(RPCRequest(id: id, method: method, params: params))
    }
}

/// A request the daemon knows how to answer.
public enum AgentMethod: Sendable, Equatable {
    /// `route`: decide and validate a call without dispatching it.
    case route(RouteParams)
    /// `call`: decide, validate and dispatch to a handler.
    case call(RouteParams)
    /// `tools/list`: the tools of one catalogue, or of all.
    case toolsList(catalogue: String?)
    /// `health`: liveness.
    case health
    /// `stats`: counters as JSON, or (`{"format": "prometheus"}`) every metric in the Prometheus text format.
    case stats(prometheus: Bool)

    /// The method names, as agents write them.
    public static let names = ["route", "call", "tools/list", "health", "stats"]

    /// Interprets a decoded request: unknown methods give method not found; params of the wrong
    /// shape, missing, out of range or unknown give invalid params naming the field.
    public static func parse(_ request: RPCRequest) -> Result<AgentMethod, RPCError> {
        do throws(RPCError) {
            switch request.method {
            case "route": return .success(.route(try routeParams(request.params)))
            case "call": return .success(.call(try routeParams(request.params)))
            case "tools/list":
                let members = try objectParams(request.params, allowed: ["catalogue"], method: "tools/list")
                return .success(.toolsList(catalogue: try catalogueParam(members)))
            case "health":
                try noParams(request.params, method: request.method)
                return .success(.health)
            case "stats":
                let members = request.params?.arrayValue?.isEmpty == true ? [] : try objectParams(request.params, allowed: ["format"], method: "stats")
                guard let format = members.first?.value else { return .success(.stats(prometheus: false)) }
                switch format.stringValue {
                case "json": return .success(.stats(prometheus: false))
                case "prometheus": return .success(.stats(prometheus: true))
                default: throw RPCError.invalidParams(field: "format", "expected \"json\" or \"prometheus\", got \(abbreviated(JSONWriter.compact(format)))")
                }
            default:
                return .failure(RPCError(.methodNotFound, "method not found: \(JSONWriter.quoted(abbreviated(request.method))) (methods: \(names.joined(separator: ", ")))",
                                         data: .object([(key: "method", value: .string(abbreviated(request.method)))])))
            }
        } catch {
            return .failure(error)
        }
    }

    private static func routeParams(_ params: JSONValue?) throws(RPCError) -> RouteParams {
        guard params != nil else { throw RPCError.invalidParams(field: "input", "missing (params must be an object with \"input\")") }
        let members = try objectParams(params, allowed: ["catalogue", "input", "deadline_ms", "tool_choice"], method: "route and call")
        let catalogue = try catalogueParam(members)
        guard let inputValue = members.first(where: { $0.key == "input" })?.value else {
            throw RPCError.invalidParams(field: "input", "missing")
        }
        guard let input = inputValue.stringValue else { throw RPCError.invalidParams(field: "input", "expected a string, got \(typeName(inputValue))") }
        guard !input.isEmpty else { throw RPCError.invalidParams(field: "input", "must not be empty") }
        guard input.utf8.count <= RouteParams.maxInputBytes else {
            throw RPCError.invalidParams(field: "input", "longer than \(RouteParams.maxInputBytes) bytes (\(input.utf8.count))")
        }
        var deadline: Int?
        if let value = members.first(where: { $0.key == "deadline_ms" })?.value {
            guard case .number(let number) = value, number.isInteger, let integer = number.intValue,
                  (1...RouteParams.maxDeadlineMs).contains(integer) else {
                throw RPCError.invalidParams(field: "deadline_ms", "expected an integer between 1 and \(RouteParams.maxDeadlineMs), got \(abbreviated(JSONWriter.compact(value)))")
            }
            deadline = integer
        }
        var choice = ToolChoice.auto
        if let value = members.first(where: { $0.key == "tool_choice" })?.value { choice = try toolChoice(value) }
        return RouteParams(catalogue: catalogue, input: input, deadlineMs: deadline, toolChoice: choice)
    }

    /// `"auto"`, `"required"`, `"NAME"`, or `{"type": "function", "function": {"name": "NAME"}}`.
    private static func toolChoice(_ value: JSONValue) throws(RPCError) -> ToolChoice {
        let name: String
        if let text = value.stringValue {
            name = text
        } else if value["type"]?.stringValue == "function", let text = value["function"]?["name"]?.stringValue {
            name = text
        } else {
            throw RPCError.invalidParams(field: "tool_choice",
                                         "expected \"auto\", \"required\", \"none\", a tool name, or {\"type\": \"function\", \"function\": {\"name\": NAME}}; got \(abbreviated(JSONWriter.compact(value)))")
        }
        switch name {
        case "auto": return .auto
        case "required": return .required
        case "none": return .none
        case "": throw RPCError.invalidParams(field: "tool_choice", "the tool name is empty")
        default: return .tool(name)
        }
    }

    /// The members of object params (absent params count as `{}`), all with allowed keys.
    private static func objectParams(_ params: JSONValue?, allowed: [String], method: String) throws(RPCError) -> [(key: String, value: JSONValue)] {
        guard let params else { return [] }
        guard let members = params.objectMembers else {
            throw RPCError(.invalidParams, "invalid params: \(method) takes an object, got \(typeName(params))")
        }
        for member in members where !allowed.contains(member.key) {
            throw RPCError.invalidParams(field: abbreviated(member.key), "unknown param (expected: \(allowed.joined(separator: ", ")))")
        }
        return members
    }

    private static func catalogueParam(_ members: [(key: String, value: JSONValue)]) throws(RPCError) -> String? {
        guard let value = members.first(where: { $0.key == "catalogue" })?.value else { return nil }
        guard let name = value.stringValue else { throw RPCError.invalidParams(field: "catalogue", "expected a string, got \(typeName(value))") }
        guard CatalogueConfig.isValidName(name) else {
            throw RPCError.invalidParams(field: "catalogue", "invalid catalogue name \(JSONWriter.quoted(abbreviated(name)))")
        }
        return name
    }

    /// Accepts absent params, `{}` or `[]`.
    private static func noParams(_ params: JSONValue?, method: String) throws(RPCError) {
        switch params {
        case nil: return
        case .object(let members)? where members.isEmpty: return
        case .array(let items)? where items.isEmpty: return
        case .object(let members)?:
            throw RPCError.invalidParams(field: abbreviated(members[0].key), "unknown param (\(method) takes none)")
        default:
            throw RPCError(.invalidParams, "invalid params: \(method) takes no params")
        }
    }
}

extension JSONLimits {
    /// The parser limits for one protocol line on either socket: the size limit is the framing limit
    /// (`max_message_bytes`), so a line the framer passes is never refused by the parser for its size.
    public static func protocolLine(maxBytes: Int) -> JSONLimits { JSONLimits(maxDepth: 64, maxBytes: maxBytes) }
}
