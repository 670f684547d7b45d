// What can go wrong with an operation of the service, independent of the protocol that asked for it.
// Each protocol adapter maps a kind to its own form: a JSON-RPC error code (AgentService), an HTTP status
// and an OpenAI error object (OpenAIHTTPService).

import JSON
import Router

/// An operation's failure: which kind, what went wrong in words, the parameter at fault when there is
/// one, and structured detail (the decoded call, the handler's error, token counts).
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure. Each protocol names them its own way (see the file header).
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// A parameter is missing, of the wrong type, out of range or unknown; `field` names it.
        case invalidParams
        /// The daemon failed while handling the request.
        case internalError
        /// No loaded catalogue has that name (or none was named and several are loaded).
        case unknownCatalogue
        /// The request queue is full.
        case overloaded
        /// The request's deadline passed.
        case deadlineExceeded
        /// No handler is registered for the decided tool.
        case noHandler
        /// The handler returned an error or disconnected mid-call.
        case handlerFailed
        /// The handler did not answer in time.
        case handlerTimedOut
        /// Every handler of the tool is at its in-flight limit or not reading.
        case handlerBusy
        /// The handler broke its protocol mid-call and was disconnected.
        case handlerProtocolError
        /// The decoded call failed validation and was not dispatched.
        case invalidCall
        /// The daemon is stopping.
        case shuttingDown
        /// The request was cancelled (its client went away) before it finished.
        case cancelled
        /// The prompt does not leave room in the context for the answer.
        case inputTooLong
        /// A reload made the decoded call invalid before dispatch; it was not dispatched.
        case catalogueChanged
        /// The tool ran and reported an error (an MCP result with `isError`); `data` is its result.
        case toolError

        /// The snake-case name used in logs, metrics and the HTTP error `code` (`handler_timed_out`).
        public var label: String { snakeCase(rawValue) }
    }

    /// Which failure it is.
    public var kind: Kind
    /// What went wrong, in words.
    public var message: String
    /// The parameter at fault (`invalidParams`), as the protocol that asked names it.
    public var field: String?
    /// Structured detail, when there is some.
    public var data: JSONValue?

    /// A failure of `kind`.
    public init(_ kind: Kind, _ message: String, field: String? = nil, data: JSONValue? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
        self.data = data
    }

    /// A parameter problem: `invalid params: field: problem`.
    public static func invalidParams(field: String, _ problem: String) -> ServiceError {
        ServiceError(.invalidParams, "invalid params: \(field): \(problem)", field: field)
    }

    public var description: String { "\(message) (\(kind.label))" }

    /// The failure a worker outcome stands for (`loaded`: the catalogue names, for the message).
    static func routing(_ failure: RouteFailure) -> ServiceError {
        switch failure {
        case .overloaded: return ServiceError(.overloaded, "\(failure)")
        case .deadlineExceeded: return ServiceError(.deadlineExceeded, "\(failure)")
        case .cancelled: return ServiceError(.cancelled, "\(failure)")
        case .shuttingDown: return ServiceError(.shuttingDown, "\(failure)")
        case .route(let error):
            switch error {
            case .unknownCatalogue: return ServiceError(.unknownCatalogue, "\(error)")
            case .emptyInput: return .invalidParams(field: "input", "\(error)")
            case .inputTooLong(let tokens, let capacity):
                return ServiceError(.inputTooLong, "input too long: \(error)",
                                    data: .object([("tokens", .number(JSONNumber(tokens))), ("capacity", .number(JSONNumber(capacity)))]))
            case .unknownTool: return .invalidParams(field: "tool_choice", "\(error)")
            case .grammar: return ServiceError(.internalError, "\(error)")
            case .invalidCall(let raw, let problems):
                return ServiceError(.invalidCall, "invalid call: the decoded call failed validation and was not dispatched",
                                    data: .object([("raw", .string(raw)), ("issues", .array(problems.map(JSONValue.string)))]))
            // A forced tool whose grounded argument the input lacks: the request, not the daemon, is at fault.
            case .decoding(.ungrounded): return .invalidParams(field: "input", "\(error)")
            case .decoding: return ServiceError(.internalError, "\(error)")
            }
        }
    }

    /// A handler's answer to `invoke` that is an error (the handler socket speaks JSON-RPC).
    static func handler(_ error: RPCError) -> ServiceError {
        let kind: Kind
        switch error.code {
        case .noHandler: kind = .noHandler
        case .handlerTimedOut: kind = .handlerTimedOut
        case .handlerBusy: kind = .handlerBusy
        case .handlerProtocolError: kind = .handlerProtocolError
        case .shuttingDown: kind = .shuttingDown
        default: kind = .handlerFailed
        }
        return ServiceError(kind, error.message, data: error.data)
    }
}

/// `handlerTimedOut` → `handler_timed_out`: the one spelling of error names in logs, metrics and HTTP codes.
func snakeCase(_ name: String) -> String {
    name.reduce(into: "") { out, c in
        if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
}
