// The JSON-RPC adapter: one agent protocol line in, one response line out. It decodes the line into an
// `AgentMethod`, runs the matching operation of the protocol-neutral `RouterService`, and encodes the
// domain result or `ServiceError` as a JSON-RPC result or error (codes in RPCError.swift). Nothing about
// routing, dispatch, logging or metrics lives here.

import JSON
import Logging
import Router
import ToolCalls

/// Answers agent protocol lines over a `RouterService`. Thread-safe.
public final class AgentService: Sendable {
    /// The service core every protocol shares.
    public let core: RouterService
    /// Parser limits for request lines: the size limit is `max_message_bytes`, the framing limit.
    public let messageLimits: JSONLimits
    /// The agent connection's peer while its request is answered (set by the agent socket); privileged
    /// peers (root or the daemon's own uid) see each tool's owner uid in `health` and `tools/list`.
    @TaskLocal public static var peer: PeerCredentials?

    /// The JSON-RPC adapter over `core`.
    public init(core: RouterService, maxMessageBytes: Int = 1 << 20) {
        self.core = core
        self.messageLimits = .protocolLine(maxBytes: maxMessageBytes)
    }

    /// A service core over `worker` and its JSON-RPC adapter.
    public convenience init(worker: RouteWorker, catalogues: [(name: String, catalogue: ToolCatalogue)], defaultDeadlineMs: Int,
                            handlers: HandlerRegistry? = nil, handlerTimeoutMs: Int = 5000, maxMessageBytes: Int = 1 << 20,
                            blas: JSONValue? = nil, mcp: MCPServers? = nil, logger: Logger = Logger(label: "toolrouter")) {
        self.init(core: RouterService(worker: worker, catalogues: catalogues, defaultDeadlineMs: defaultDeadlineMs, handlers: handlers,
                                      handlerTimeoutMs: handlerTimeoutMs, blas: blas, mcp: mcp, logger: logger),
                  maxMessageBytes: maxMessageBytes)
    }

    /// The worker that owns the model.
    public var worker: RouteWorker { core.worker }
    /// The catalogues served now.
    public var catalogues: [(name: String, catalogue: ToolCatalogue)] { core.catalogues }
    /// Set when a stop begins (see `RouterService.stopDeadline`).
    public var stopDeadline: StopDeadline { core.stopDeadline }

    /// The response line for one request line (nil for a notification, which gets no answer).
    public func respond(to line: [UInt8]) async -> [UInt8]? {
        let request: RPCRequest
        switch RPCRequest.decode(line: line, limits: messageLimits) {
        case .success(let r): request = r
        case .failure(let response):
            core.countRefused(.jsonrpc)
            core.logger.info("request", metadata: ["protocol": "jsonrpc", "outcome": "\(Self.outcome(response.error))", "bytes": "\(line.count)"])
            return response.bytes
        }
        let reply: Result<JSONValue, RPCError>
        switch AgentMethod.parse(request) {
        case .failure(let error):
            // Bad params of a known method count against that operation; an unknown method is refused.
            let origin = RequestOrigin(.jsonrpc, id: JSONWriter.compact(request.responseID))
            if let operation = Self.operation(request.method) {
                core.reject(operation, origin: origin, ServiceError(.invalidParams, error.message, field: error.data?["field"]?.stringValue))
            } else {
                core.countRefused(.jsonrpc)
            }
            reply = .failure(error)
        case .success(let method):
            reply = await handle(method, origin: RequestOrigin(.jsonrpc, id: JSONWriter.compact(request.responseID)))
        }
        if request.isNotification { return nil }
        switch reply {
        case .success(let value): return RPCResponse.result(id: request.responseID, value)
        case .failure(let error): return RPCResponse.error(id: request.responseID, error)
        }
    }

    /// The response for a line longer than the size cap.
    public func tooLong(byteCount: Int, limit: Int) -> [UInt8] {
        core.countRefused(.jsonrpc)
        return RPCResponse.error(id: .null, .messageTooLarge(byteCount: byteCount, limit: limit))
    }

    private func handle(_ method: AgentMethod, origin: RequestOrigin) async -> Result<JSONValue, RPCError> {
        let privileged = Self.peer?.isPrivileged == true
        switch method {
        case .health:
            return .success(core.health(privileged: privileged, origin: origin))
        case .stats(prometheus: true):
            return .success(.object([("format", .string("prometheus")), ("text", .string(core.prometheusText(origin: origin)))]))
        case .stats(prometheus: false):
            return .success(core.stats(origin: origin))
        case .toolsList(let name):
            return core.list(catalogue: name, privileged: privileged, origin: origin).mapError(RPCError.init)
        case .route(let params):
            return await core.route(params, origin: origin).map { result in
                .object([("call", result.call.json), ("raw", .string(result.raw)), ("timings", Self.timingsJSON(result.timings))])
            }.mapError(RPCError.init)
        case .call(let params):
            return await core.call(params, origin: origin).map { outcome in
                let routed = outcome.routed
                if case .noTool(let reason) = routed.call {
                    return .object([("call", routed.call.json), ("result", .null), ("reason", .string(reason)),
                                    ("timings", Self.timingsJSON(routed.timings))])
                }
                return .object([("call", routed.call.json), ("result", outcome.result ?? .null), ("timings", Self.timingsJSON(routed.timings))])
            }.mapError(RPCError.init)
        }
    }

    /// The operation a method name stands for.
    static func operation(_ method: String) -> ServiceOperation? {
        switch method {
        case "route": return .route
        case "call": return .call
        case "tools/list": return .list
        case "health": return .health
        case "stats": return .stats
        default: return nil
        }
    }

    /// An error's outcome name for logs, e.g. `handler_timed_out`.
    static func outcome(_ error: RPCError?) -> String {
        guard let error else { return "ok" }
        return snakeCase("\(error.code)")
    }

    /// The `timings` member of `route` and `call` answers.
    public static func timingsJSON(_ t: RouteTimings) -> JSONValue {
        func ms(_ v: Double) -> JSONValue { .number(JSONNumber(literal: String(format: "%.3f", v))) }
        return .object([
            ("queue_ms", ms(t.queueMs)), ("prefill_ms", ms(t.prefillMs)), ("decode_ms", ms(t.decodeMs)),
            ("mask_ms", ms(t.maskMs)), ("validate_ms", ms(t.validateMs)), ("dispatch_ms", ms(t.dispatchMs)),
            ("total_ms", ms(t.totalMs)), ("prompt_tokens", .number(JSONNumber(t.promptTokens))),
            ("cached_tokens", .number(JSONNumber(t.cachedTokens))), ("generated_tokens", .number(JSONNumber(t.generatedTokens))),
        ])
    }
}

extension AgentService {
    /// Serves `catalogues` on `pipeline` from now on (see `RouterService.reload`).
    public func reload(pipeline: RequestPipeline, catalogues: [(name: String, catalogue: ToolCatalogue)]) {
        core.reload(pipeline: pipeline, catalogues: catalogues)
    }
}

extension RPCError {
    /// The JSON-RPC form of a service failure: each kind has its code (table in RPCErrorCode).
    public init(_ error: ServiceError) {
        let code: RPCErrorCode
        switch error.kind {
        case .invalidParams: code = .invalidParams
        case .internalError: code = .internalError
        case .unknownCatalogue: code = .unknownCatalogue
        case .overloaded: code = .overloaded
        case .deadlineExceeded: code = .deadlineExceeded
        case .noHandler: code = .noHandler
        case .handlerFailed: code = .handlerFailed
        case .handlerTimedOut: code = .handlerTimedOut
        case .handlerBusy: code = .handlerBusy
        case .handlerProtocolError: code = .handlerProtocolError
        case .invalidCall: code = .invalidCall
        case .shuttingDown: code = .shuttingDown
        case .cancelled: code = .cancelled
        case .inputTooLong: code = .inputTooLong
        case .catalogueChanged: code = .catalogueChanged
        case .toolError: code = .toolError
        }
        var data = error.data
        if let field = error.field, data == nil { data = .object([(key: "field", value: .string(field))]) }
        self.init(code, error.message, data: data)
    }
}
