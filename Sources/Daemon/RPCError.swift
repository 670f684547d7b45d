// JSON-RPC 2.0 error codes, errors and response lines of the agent protocol.

import JSON

/// The error codes the agent protocol answers with.
///
/// | Code | Name | Meaning |
/// |---|---|---|
/// | -32700 | `parseError` | the line is not valid UTF-8 JSON; `id` is null |
/// | -32600 | `invalidRequest` | valid JSON but not a JSON-RPC 2.0 request object (batches included) |
/// | -32601 | `methodNotFound` | no such method; the message names it |
/// | -32602 | `invalidParams` | params missing, of the wrong type or with unknown keys; `data.field` names the param |
/// | -32603 | `internalError` | the daemon failed while handling the request |
/// | -32001 | `unknownCatalogue` | no catalogue with that name is loaded, or none was named and several are |
/// | -32002 | `overloaded` | the request queue is full; retry later |
/// | -32003 | `deadlineExceeded` | the request's deadline passed before it finished |
/// | -32004 | `noHandler` | no handler is registered for the decided tool |
/// | -32005 | `handlerFailed` | the handler returned an error or disconnected mid-call |
/// | -32006 | `handlerTimedOut` | the handler did not answer within the handler timeout |
/// | -32007 | `invalidCall` | the decoded call failed schema validation and was not dispatched; `data` is `{"raw", "issues"}` |
/// | -32008 | `messageTooLarge` | the line exceeded the message size cap; the rest of it was discarded |
/// | -32009 | `shuttingDown` | the daemon is stopping and takes no new requests |
/// | -32010 | `forbidden` | the connecting process is not in the socket's allowed uids/gids (sent once, then the connection closes) |
/// | -32011 | `idleTimeout` | the connection sent no complete line (agents) or did not register (handlers) within `idle_timeout_ms` (sent once, then the connection closes) |
/// | -32020 | `toolOwned` | (handler socket) `register` named a tool that a handler of another user serves |
/// | -32021 | `handlerBusy` | every handler of the tool has its in-flight limit of calls, or is not reading; retry later |
/// | -32023 | `toolError` | the tool ran and reported an error (an MCP server's `isError` result); `data` is its result |
/// | -32022 | `handlerProtocolError` | the handler broke the protocol mid-call (an answer too large, not JSON, not UTF-8, too deep); its connection was closed |
/// | -32030 | `cancelled` | the request was cancelled (its connection closed) before it finished |
/// | -32031 | `inputTooLong` | the prompt leaves no room in the context for the answer; `data` is `{"tokens", "capacity"}` |
/// | -32032 | `catalogueChanged` | a reload changed the catalogue between decoding and dispatch, and the call is not valid under the catalogue now served; not dispatched |
public enum RPCErrorCode: Int, Sendable, Equatable, CaseIterable {
    /// The line is not valid UTF-8 JSON.
    case parseError = -32700
    /// Valid JSON that is not a JSON-RPC 2.0 request object.
    case invalidRequest = -32600
    /// No method of that name.
    case methodNotFound = -32601
    /// Params of the wrong shape, missing, out of range or unknown.
    case invalidParams = -32602
    /// The daemon failed while handling the request.
    case internalError = -32603
    /// No loaded catalogue has that name (or none was named and several are loaded).
    case unknownCatalogue = -32001
    /// The request queue is full.
    case overloaded = -32002
    /// The request's deadline passed.
    case deadlineExceeded = -32003
    /// No handler is registered for the decided tool.
    case noHandler = -32004
    /// The handler returned an error or disconnected mid-call.
    case handlerFailed = -32005
    /// The handler did not answer in time.
    case handlerTimedOut = -32006
    /// The decoded call failed validation and was not dispatched.
    case invalidCall = -32007
    /// A line exceeded the message size cap.
    case messageTooLarge = -32008
    /// The daemon is stopping.
    case shuttingDown = -32009
    /// The connecting process is not in the socket's allowed uids/gids.
    case forbidden = -32010
    /// The connection stayed idle past the idle timeout and is being closed.
    case idleTimeout = -32011
    /// A `register` named a tool a handler of another uid serves.
    case toolOwned = -32020
    /// Every handler of the tool is full (in-flight limit) or not reading.
    case handlerBusy = -32021
    /// The handler sent a line that breaks the protocol; its connection was closed.
    case handlerProtocolError = -32022
    /// The tool ran and reported an error.
    case toolError = -32023
    /// The request was cancelled before it finished.
    case cancelled = -32030
    /// The prompt does not leave room in the context for the answer.
    case inputTooLong = -32031
    /// A reload changed the catalogue after the call was decoded, and the call does not validate under
    /// the catalogue being served (or its tool left); it was not dispatched.
    case catalogueChanged = -32032

    /// The short message used when no more specific one is given.
    public var defaultMessage: String {
        switch self {
        case .parseError: return "parse error"
        case .invalidRequest: return "invalid request"
        case .methodNotFound: return "method not found"
        case .invalidParams: return "invalid params"
        case .internalError: return "internal error"
        case .unknownCatalogue: return "unknown catalogue"
        case .overloaded: return "overloaded: the request queue is full"
        case .deadlineExceeded: return "deadline exceeded"
        case .noHandler: return "no handler for the tool"
        case .handlerFailed: return "handler failed"
        case .handlerTimedOut: return "handler timed out"
        case .invalidCall: return "invalid call: the decoded call failed validation and was not dispatched"
        case .messageTooLarge: return "message too large"
        case .shuttingDown: return "shutting down"
        case .forbidden: return "forbidden: this peer is not allowed on the socket"
        case .idleTimeout: return "idle timeout: closing the connection"
        case .toolOwned: return "tool owned: a handler of another user serves this tool"
        case .handlerBusy: return "handler busy: every handler of the tool is at its in-flight limit or not reading"
        case .handlerProtocolError: return "handler protocol error: the handler sent an invalid line and was disconnected"
        case .toolError: return "tool error: the tool ran and reported an error"
        case .cancelled: return "request cancelled"
        case .inputTooLong: return "input too long: the prompt leaves no room in the context for the answer"
        case .catalogueChanged: return "catalogue changed: the call is not valid under the catalogue now served and was not dispatched"
        }
    }
}

/// A JSON-RPC error object: a code, a one-line message and optional structured data.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which error it is.
    public var code: RPCErrorCode
    /// What went wrong, in words.
    public var message: String
    /// Structured detail, when there is some.
    public var data: JSONValue?

    /// An error; the message defaults to the code's `defaultMessage`.
    public init(_ code: RPCErrorCode, _ message: String? = nil, data: JSONValue? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.data = data
    }

    /// `message (code)`.
    public var description: String { "\(message) (\(code.rawValue))" }

    /// The error object as JSON: `{"code":…,"message":…,"data":…}` (data only when present).
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            (key: "code", value: .number(JSONNumber(code.rawValue))),
            (key: "message", value: .string(message)),
        ]
        if let data { members.append((key: "data", value: data)) }
        return .object(members)
    }

    /// A parameter problem: `field: problem`, with `data` `{"field": field}`.
    public static func invalidParams(field: String, _ problem: String) -> RPCError {
        RPCError(.invalidParams, "invalid params: \(field): \(problem)", data: .object([(key: "field", value: .string(field))]))
    }

    /// A line longer than the cap; `data` carries the byte count seen and the limit.
    public static func messageTooLarge(byteCount: Int, limit: Int) -> RPCError {
        RPCError(.messageTooLarge, "message too large: more than \(limit) bytes in one line (\(byteCount) read); the line was discarded",
                 data: .object([(key: "bytes", value: .number(JSONNumber(byteCount))), (key: "limit", value: .number(JSONNumber(limit)))]))
    }

    /// A decoded call that failed validation: the raw model output and the validator's issues.
    public static func invalidCall(raw: String, issues: [String]) -> RPCError {
        RPCError(.invalidCall, data: .object([(key: "raw", value: .string(raw)),
                                              (key: "issues", value: .array(issues.map(JSONValue.string)))]))
    }
}

/// An error answer to a line that could not become a request: the id to answer with (null when
/// none could be read) and the error.
public struct RPCErrorResponse: Error, Sendable, Equatable {
    /// The request's id when it could be read, else `.null`.
    public var id: JSONValue
    /// What was wrong.
    public var error: RPCError

    /// An error answer.
    public init(id: JSONValue, error: RPCError) {
        self.id = id
        self.error = error
    }

    /// The response line to send.
    public var bytes: [UInt8] { RPCResponse.error(id: id, error) }
}

/// Encodes response lines: one compact JSON object followed by `\n`.
public enum RPCResponse {
    /// `{"jsonrpc":"2.0","id":…,"result":…}\n`.
    public static func result(id: JSONValue, _ value: JSONValue) -> [UInt8] {
        line(.object([(key: "jsonrpc", value: .string("2.0")), (key: "id", value: id), (key: "result", value: value)]))
    }

    /// `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data":…}}\n`.
    public static func error(id: JSONValue, _ error: RPCError) -> [UInt8] {
        line(.object([(key: "jsonrpc", value: .string("2.0")), (key: "id", value: id), (key: "error", value: error.json)]))
    }

    private static func line(_ value: JSONValue) -> [UInt8] {
        var bytes = Array(JSONWriter.compact(value).utf8)
        bytes.append(0x0A)
        return bytes
    }
}
