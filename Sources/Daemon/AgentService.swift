// What the daemon does with one agent request line, independent of sockets: decode, dispatch by method,
// run routing on the inference worker, and encode the response line. A `call` is validated again just
// before dispatch against the catalogue served then (a reload may have changed it since decoding), and
// handler calls are bounded by the stop deadline during a stop.

import Foundation
import Inference
import JSON
import Logging
import Router
import Synchronization
import ToolCalls

/// Counters behind the `stats` method.
final class ServiceCounters: Sendable {
    let requests = Atomic<Int>(0)
    let routed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}

/// Answers agent protocol lines. Thread-safe: many connections call it at once; routing itself is
/// serialised by the `RouteWorker`.
public final class AgentService: Sendable {
    /// The worker that owns the model.
    public let worker: RouteWorker
    /// Catalogues by name, in load order (for `tools/list` and catalogue checks); replaced whole by a reload.
    public var catalogues: [(name: String, catalogue: ToolCatalogue)] { catalogueList.withLock { $0 } }
    let catalogueList: Mutex<[(name: String, catalogue: ToolCatalogue)]>
    /// Deadline for requests that name none.
    public let defaultDeadlineMs: Int
    /// The tool handlers `call` dispatches to (nil: no handler socket, every call answers `no handler`).
    public let handlers: HandlerRegistry?
    /// Time a handler has to answer.
    public let handlerTimeoutMs: Int
    /// Where the one line per request goes (info: id, method, catalogue, tool, outcome, time; the
    /// request's text only at debug).
    public let logger: Logger
    /// The Prometheus metrics (`stats` with `{"format": "prometheus"}`).
    public let metrics = DaemonMetrics()
    /// Parser limits for request lines: the size limit is `max_message_bytes`, the framing limit.
    public let messageLimits: JSONLimits
    /// The BLAS kernels in use and their check, shown by `health` (nil: not reported).
    public let blas: JSONValue?
    /// Set when a stop begins: calls waiting on a handler are answered `shutting_down` at its deadline.
    public let stopDeadline = StopDeadline()
    let counters = ServiceCounters()
    let started = MonotonicClock.now()
    /// The agent connection's peer while its request is answered (set by the agent socket); privileged
    /// peers (root or the daemon's own uid) see each tool's owner uid in `health` and `tools/list`.
    @TaskLocal public static var peer: PeerCredentials?

    /// A service over `worker` serving `catalogues`, dispatching calls to `handlers`.
    public init(worker: RouteWorker, catalogues: [(name: String, catalogue: ToolCatalogue)], defaultDeadlineMs: Int,
                handlers: HandlerRegistry? = nil, handlerTimeoutMs: Int = 5000, maxMessageBytes: Int = 1 << 20,
                blas: JSONValue? = nil, logger: Logger = Logger(label: "toolrouter")) {
        self.blas = blas
        self.messageLimits = .protocolLine(maxBytes: maxMessageBytes)
        self.worker = worker
        self.catalogueList = Mutex(catalogues)
        self.defaultDeadlineMs = defaultDeadlineMs
        self.handlers = handlers
        self.handlerTimeoutMs = handlerTimeoutMs
        self.logger = logger
    }

    /// The response line for one request line (nil for a notification, which gets no answer).
    public func respond(to line: [UInt8]) async -> [UInt8]? {
        counters.requests.add(1, ordering: .relaxed)
        let start = MonotonicClock.now()
        let request: RPCRequest
        switch RPCRequest.decode(line: line, limits: messageLimits) {
        case .success(let r): request = r
        case .failure(let response):
            logger.info("request", metadata: ["outcome": "\(Self.outcome(response.error))", "bytes": "\(line.count)"])
            return response.bytes
        }
        let reply: Result<JSONValue, RPCError>
        let method = AgentMethod.parse(request)
        switch method {
        case .failure(let error): reply = .failure(error)
        case .success(let method): reply = await handle(method)
        }
        log(request, method: try? method.get(), reply: reply, milliseconds: (MonotonicClock.now() - start) * 1000)
        if request.isNotification { return nil }
        switch reply {
        case .success(let value): return RPCResponse.result(id: request.responseID, value)
        case .failure(let error):
            counters.failed.add(1, ordering: .relaxed)
            return RPCResponse.error(id: request.responseID, error)
        }
    }

    /// One line per request: route and call at info, the cheap methods at debug.
    private func log(_ request: RPCRequest, method: AgentMethod?, reply: Result<JSONValue, RPCError>, milliseconds: Double) {
        var metadata: Logger.Metadata = ["id": "\(JSONWriter.compact(request.responseID))", "method": "\(Self.abbreviatedMethod(request.method))",
                                         "total_ms": "\(String(format: "%.1f", milliseconds))"]
        var params: RouteParams?
        switch method {
        case .route(let p)?, .call(let p)?: params = p
        default: break
        }
        if let params {
            metadata["catalogue"] = "\(params.catalogue ?? loadedCatalogue(for: params)?.name ?? "-")"
        }
        switch reply {
        case .success(let value):
            metadata["outcome"] = "ok"
            if let tool = value["call"]?["tool"]?.stringValue { metadata["tool"] = "\(tool)" }
        case .failure(let error):
            metadata["outcome"] = "\(Self.outcome(error))"
            if let tool = error.data?["call"]?["tool"]?.stringValue { metadata["tool"] = "\(tool)" }
        }
        let level: Logger.Level = params == nil ? .debug : .info
        logger.log(level: level, "request", metadata: metadata)
        recordMetrics(request.method, params: params, reply: reply)
        if let params, logger.logLevel <= .debug { logger.debug("request text", metadata: ["id": metadata["id"] ?? "", "input": "\(params.input)"]) }
    }

    /// Counts the request in `metrics`, with label values cut down to loaded catalogue and tool names.
    private func recordMetrics(_ method: String, params: RouteParams?, reply: Result<JSONValue, RPCError>) {
        var catalogue = "-"
        var entry: ToolCatalogue?
        if let params {
            if let found = loadedCatalogue(for: params) { catalogue = found.name; entry = found.catalogue } else { catalogue = "unknown" }
        }
        func toolLabel(_ value: JSONValue?) -> String {
            guard let name = value?["tool"]?.stringValue else { return "-" }
            return name == ToolCatalogue.noToolName || entry?.tool(named: name) != nil ? name : "unknown"
        }
        switch reply {
        case .success(let value):
            let tool = toolLabel(value["call"])
            var timings: [String: Double]?
            var tokens: (prompt: Int, cached: Int, generated: Int)?
            if let t = value["timings"] {
                timings = Dictionary(uniqueKeysWithValues: DaemonMetrics.phases.compactMap { phase in t["\(phase)_ms"]?.doubleValue.map { (phase, $0) } })
                tokens = (t["prompt_tokens"]?.intValue ?? 0, t["cached_tokens"]?.intValue ?? 0, t["generated_tokens"]?.intValue ?? 0)
            }
            metrics.record(method: method, catalogue: catalogue, tool: tool, outcome: "ok", timings: timings, tokens: tokens)
            if method == "call", tool != "-", tool != ToolCatalogue.noToolName {
                metrics.recordHandlerCall(catalogue: catalogue, tool: tool, outcome: "ok")
            }
        case .failure(let error):
            let tool = toolLabel(error.data?["call"])
            metrics.record(method: method, catalogue: catalogue, tool: tool, outcome: Self.outcome(error), timings: nil, tokens: nil)
            switch error.code {
            case .handlerFailed: metrics.recordHandlerCall(catalogue: catalogue, tool: tool, outcome: "failed")
            case .handlerTimedOut: metrics.recordHandlerCall(catalogue: catalogue, tool: tool, outcome: "timed_out")
            case .noHandler: metrics.recordHandlerCall(catalogue: catalogue, tool: tool, outcome: "no_handler")
            default: break
            }
        }
    }

    /// An error's outcome name for logs, e.g. `handler_timed_out`.
    static func outcome(_ error: RPCError?) -> String {
        guard let error else { return "ok" }
        let name = "\(error.code)"
        return name.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
    }

    private static func abbreviatedMethod(_ method: String) -> String {
        method.count <= 40 ? method : String(method.prefix(40)) + "…"
    }

    /// The response for a line longer than the size cap.
    public func tooLong(byteCount: Int, limit: Int) -> [UInt8] {
        counters.requests.add(1, ordering: .relaxed)
        counters.failed.add(1, ordering: .relaxed)
        return RPCResponse.error(id: .null, .messageTooLarge(byteCount: byteCount, limit: limit))
    }

    private func handle(_ method: AgentMethod) async -> Result<JSONValue, RPCError> {
        switch method {
        case .health:
            return .success(.object([("status", .string("ok")), ("queued", .number(JSONNumber(worker.queuedCount))),
                                     ("handlers", handlersJSON())] + ownersMember() + (blas.map { [("blas", $0)] } ?? [])))
        case .stats(prometheus: true):
            return .success(.object([("format", .string("prometheus")), ("text", .string(metrics.text(queued: worker.queuedCount)))]))
        case .stats(prometheus: false):
            return .success(.object([
                ("requests", .number(JSONNumber(counters.requests.load(ordering: .relaxed)))),
                ("routed", .number(JSONNumber(counters.routed.load(ordering: .relaxed)))),
                ("failed", .number(JSONNumber(counters.failed.load(ordering: .relaxed)))),
                ("queued", .number(JSONNumber(worker.queuedCount))),
                ("uptime_s", .number(JSONNumber((MonotonicClock.now() - started).rounded()))),
            ]))
        case .toolsList(let name):
            let selected = catalogues.filter { name == nil || $0.name == name }
            if let name, selected.isEmpty { return .failure(unknownCatalogue(name)) }
            return .success(.object(selected.map { entry in (key: entry.name, value: toolsJSON(entry)) }))
        case .route(let params):
            return await route(params).map { result in
                .object([("call", result.call.json), ("raw", .string(result.raw)), ("timings", Self.timingsJSON(result.timings))])
            }
        case .call(let params):
            switch await route(params) {
            case .failure(let error): return .failure(error)
            case .success(let result): return await dispatch(result, params: params)
            }
        }
    }

    /// Sends a routed call to its handler. The call was validated against the catalogue it was decoded
    /// under; a reload may have changed that catalogue since, so it is validated again against the
    /// catalogue served now, and not dispatched (`catalogueChanged`) if its catalogue or tool left or it
    /// no longer validates.
    func dispatch(_ routed: RouteResult, params: RouteParams) async -> Result<JSONValue, RPCError> {
        var result = routed
        if case .noTool(let reason) = result.call {
            return .success(.object([("call", result.call.json), ("result", .null), ("reason", .string(reason)),
                                     ("timings", Self.timingsJSON(result.timings))]))
        }
        let current = loadedCatalogue(for: params)
        if let problem = Self.invalidAtDispatch(result.call, request: params.input, current: current) { return .failure(problem) }
        guard let handlers, case .tool(let tool, let arguments) = result.call, let catalogue = current?.name else {
            return .failure(RPCError(.noHandler, "no handler is registered for tool '\(result.call.toolName)'",
                                     data: .object([("call", result.call.json)])))
        }
        let dispatchStart = MonotonicClock.now()
        let outcome = await invokeBeforeStop(handlers, catalogue: catalogue, tool: tool, arguments: arguments)
        result.timings.dispatchMs = (MonotonicClock.now() - dispatchStart) * 1000
        result.timings.totalMs += result.timings.dispatchMs
        switch outcome {
        case .success(let value):
            return .success(.object([("call", result.call.json), ("result", value), ("timings", Self.timingsJSON(result.timings))]))
        case .failure(var error):
            error.data = .object([("call", result.call.json)] + (error.data.map { [("handler", $0)] } ?? []))
            return .failure(error)
        }
    }

    /// Calls the handler, within the handler timeout clipped to the stop deadline during a stop; a call
    /// still waiting when the stop deadline passes is answered `shutting_down` then.
    private func invokeBeforeStop(_ handlers: HandlerRegistry, catalogue: String, tool: String,
                                  arguments: JSONValue) async -> Result<JSONValue, RPCError> {
        // Past the stop deadline nothing more is dispatched: the agent would never see the result.
        if stopDeadline.hasFired { return .failure(RPCError(.shuttingDown, "shutting down: the stop deadline passed before dispatch")) }
        let timeoutMs = stopDeadline.remaining.map { max(1, min(handlerTimeoutMs, Int($0 * 1000))) } ?? handlerTimeoutMs
        let stop = stopDeadline
        return await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            let token = stop.onFire {
                answer.resume(.failure(RPCError(.shuttingDown, "shutting down: the stop deadline passed before the handler answered")))
            }
            Task {
                let outcome = await handlers.invoke(catalogue: catalogue, tool: tool, arguments: arguments, timeoutMs: timeoutMs)
                stop.cancel(token)
                answer.resume(outcome)
            }
        }
    }

    /// The `catalogueChanged` error when `call` cannot be dispatched under `current` (the catalogue its
    /// request names, as served now): the catalogue or the tool is gone, or the arguments fail its schema
    /// (`x-from-input` values checked against `request`, the text the call was routed from).
    static func invalidAtDispatch(_ call: ToolCall, request: String, current: (name: String, catalogue: ToolCatalogue)?) -> RPCError? {
        let issues: [String]
        if let current {
            if current.catalogue.tool(named: call.toolName) == nil {
                issues = ["tool '\(call.toolName)' is no longer in catalogue '\(current.name)'"]
            } else {
                issues = current.catalogue.validate(call, origin: .request(request)).map { "\($0.instancePointer): \($0.message)" }
            }
        } else {
            issues = ["the request's catalogue is no longer loaded"]
        }
        guard !issues.isEmpty else { return nil }
        return RPCError(.catalogueChanged, "catalogue changed since the call was decoded: \(issues.joined(separator: "; ")); not dispatched",
                        data: .object([("call", call.json), ("issues", .array(issues.map(JSONValue.string)))]))
    }

    /// `{"catalogue": {"tool": handler count}}` for the tools that have handlers, in catalogue order.
    private func handlersJSON() -> JSONValue {
        let online = handlers?.onlineTools ?? [:]
        return .object(catalogues.map { entry in
            let counts = online[entry.name] ?? [:]
            return (key: entry.name, value: .object(entry.catalogue.tools.compactMap { tool in
                counts[tool.name].map { (key: tool.name, value: .number(JSONNumber($0))) }
            }))
        })
    }

    /// For a privileged peer (see `peer`), `health`'s `"handler_owners": {"catalogue": {"tool": uid}}`:
    /// the uid whose handlers serve each online tool. Nothing for anyone else.
    private func ownersMember() -> [(key: String, value: JSONValue)] {
        guard Self.peer?.isPrivileged == true else { return [] }
        let owners = handlers?.toolOwners ?? [:]
        return [(key: "handler_owners", value: .object(catalogues.map { entry in
            (key: entry.name, value: .object(entry.catalogue.tools.compactMap { tool in
                owners[entry.name]?[tool.name].map { (key: tool.name, value: .number(JSONNumber(Int($0)))) }
            }))
        }))]
    }

    /// The `tools/list` entries of one catalogue: name, description, parameters, `"handlers": count`, and
    /// `"owner_uid"` (privileged peers only, online tools only).
    private func toolsJSON(_ entry: (name: String, catalogue: ToolCatalogue)) -> JSONValue {
        let counts = handlers?.onlineTools[entry.name] ?? [:]
        let owners = Self.peer?.isPrivileged == true ? handlers?.toolOwners[entry.name] ?? [:] : [:]
        return .array(entry.catalogue.tools.map { tool in
            var members: [(key: String, value: JSONValue)] = [("name", .string(tool.name)), ("description", .string(tool.description)),
                                                              ("parameters", tool.parameters), ("handlers", .number(JSONNumber(counts[tool.name] ?? 0)))]
            if let uid = owners[tool.name] { members.append(("owner_uid", .number(JSONNumber(Int(uid))))) }
            return .object(members)
        })
    }

    /// The loaded catalogue a route or call names, or the only one loaded when it names none; nil when the
    /// name is unknown or several are loaded and none is named.
    private func loadedCatalogue(for params: RouteParams) -> (name: String, catalogue: ToolCatalogue)? {
        let loaded = catalogues
        guard let name = params.catalogue else { return loaded.count == 1 ? loaded[0] : nil }
        return loaded.first { $0.name == name }
    }

    private func route(_ params: RouteParams) async -> Result<RouteResult, RPCError> {
        if let name = params.catalogue, !catalogues.contains(where: { $0.name == name }) { return .failure(unknownCatalogue(name)) }
        let outcome = await worker.route(RouteRequest(catalogue: params.catalogue, input: params.input, toolChoice: params.toolChoice),
                                         deadlineMs: Double(params.deadlineMs ?? defaultDeadlineMs))
        switch outcome {
        case .success(let result):
            counters.routed.add(1, ordering: .relaxed)
            return .success(result)
        case .failure(let failure):
            return .failure(Self.rpcError(failure, loaded: catalogues.map(\.name)))
        }
    }

    private func unknownCatalogue(_ name: String?) -> RPCError {
        RPCError(.unknownCatalogue, "\(RouteError.unknownCatalogue(name, loaded: catalogues.map(\.name)))")
    }

    static func rpcError(_ failure: RouteFailure, loaded: [String]) -> RPCError {
        switch failure {
        case .overloaded: return RPCError(.overloaded, "\(failure)")
        case .deadlineExceeded: return RPCError(.deadlineExceeded, "\(failure)")
        case .cancelled: return RPCError(.cancelled, "\(failure)")
        case .shuttingDown: return RPCError(.shuttingDown, "\(failure)")
        case .route(let error):
            switch error {
            case .unknownCatalogue: return RPCError(.unknownCatalogue, "\(error)")
            case .emptyInput: return .invalidParams(field: "input", "\(error)")
            case .inputTooLong(let tokens, let capacity):
                return RPCError(.inputTooLong, "input too long: \(error)",
                                data: .object([("tokens", .number(JSONNumber(tokens))), ("capacity", .number(JSONNumber(capacity)))]))
            case .unknownTool: return .invalidParams(field: "tool_choice", "\(error)")
            case .grammar: return RPCError(.internalError, "\(error)")
            case .invalidCall(let raw, let problems): return .invalidCall(raw: raw, issues: problems)
            // A forced tool whose grounded argument the input lacks: the request, not the daemon, is at fault.
            case .decoding(.ungrounded): return .invalidParams(field: "input", "\(error)")
            case .decoding: return RPCError(.internalError, "\(error)")
            }
        }
    }

    static func timingsJSON(_ t: RouteTimings) -> JSONValue {
        func ms(_ v: Double) -> JSONValue { .number(JSONNumber(literal: String(format: "%.3f", v))) }
        return .object([
            ("queue_ms", ms(t.queueMs)), ("prefill_ms", ms(t.prefillMs)), ("decode_ms", ms(t.decodeMs)),
            ("mask_ms", ms(t.maskMs)), ("validate_ms", ms(t.validateMs)), ("dispatch_ms", ms(t.dispatchMs)),
            ("total_ms", ms(t.totalMs)), ("prompt_tokens", .number(JSONNumber(t.promptTokens))),
            ("cached_tokens", .number(JSONNumber(t.cachedTokens))), ("generated_tokens", .number(JSONNumber(t.generatedTokens))),
        ])
    }
}
