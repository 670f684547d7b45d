// The service core: what the daemon does for a request, whichever protocol carried it. Route a request
// to a validated call on the inference worker; call (route, validate again, dispatch to a handler); list
// catalogues; report health and stats. Results and errors are domain values (`RouteResult`,
// `CallOutcome`, `ServiceError`); the protocol adapters (JSON-RPC lines in AgentService, OpenAI HTTP in
// OpenAIHTTPService) decode their requests into `RouteParams` and encode what comes back.
//
// Every operation is logged (one line, at info for route and call) and counted in the metrics by
// operation and protocol here, so the adapters stay thin and the numbers mean the same on every protocol.
// A `call` is validated again just before dispatch against the catalogue served then (a reload may have
// changed it since decoding), and handler calls are bounded by the stop deadline during a stop.

import Foundation
import Inference
import JSON
import Logging
import Router
import Synchronization
import ToolCalls

/// What a route or call asks for, protocol-neutral.
public struct RouteParams: Sendable, Equatable {
    /// The longest `input` accepted, in UTF-8 bytes.
    public static let maxInputBytes = 16 * 1024
    /// The longest `deadline_ms` accepted (one hour).
    public static let maxDeadlineMs = 3_600_000

    /// The catalogue to route against; nil when only one is loaded (or when `adHoc` is set).
    public var catalogue: String?
    /// The natural-language request (non-empty).
    public var input: String
    /// The request's deadline in milliseconds; nil for the configured default.
    public var deadlineMs: Int?
    /// Which answers are allowed: `"auto"` (default), `"required"` (never `no_tool`), `"none"` (only
    /// `no_tool`), or a tool name (as a string or OpenAI's `{"type": "function", "function": {"name": NAME}}`).
    public var toolChoice: ToolChoice
    /// Tools sent with the request (OpenAI's inline `tools`) when they are not a loaded catalogue's.
    public var adHoc: AdHocCatalogue?

    /// Route params.
    public init(catalogue: String? = nil, input: String, deadlineMs: Int? = nil, toolChoice: ToolChoice = .auto, adHoc: AdHocCatalogue? = nil) {
        self.catalogue = catalogue
        self.input = input
        self.deadlineMs = deadlineMs
        self.toolChoice = toolChoice
        self.adHoc = adHoc
    }
}

/// The operations of the service: the label of metrics and log lines.
public enum ServiceOperation: String, Sendable, CaseIterable {
    case route, call, list, health, stats
}

/// Which protocol asked (a metrics label and a log field).
public enum ServiceProtocol: String, Sendable, CaseIterable {
    /// The agent socket's newline-delimited JSON-RPC.
    case jsonrpc
    /// The OpenAI-compatible HTTP API.
    case http
}

/// Who asked, for the log line: the protocol and its request id.
public struct RequestOrigin: Sendable {
    /// The protocol that carried the request.
    public var proto: ServiceProtocol
    /// The protocol's id of the request, as text (a JSON-RPC id, an HTTP completion id).
    public var id: String

    /// An origin.
    public init(_ proto: ServiceProtocol, id: String) {
        self.proto = proto
        self.id = id
    }
}

/// A dispatched call: the routed call and the handler's result (nil for `no_tool`, never dispatched).
public struct CallOutcome: Sendable {
    /// The routed call, its timings including dispatch.
    public var routed: RouteResult
    /// The handler's result.
    public var result: JSONValue?
}

/// Counters behind the `stats` operation.
final class ServiceCounters: Sendable {
    let requests = Atomic<Int>(0)
    let routed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}

/// The protocol-neutral service. Thread-safe: many connections call it at once; routing itself is
/// serialised by the `RouteWorker`.
public final class RouterService: Sendable {
    /// The worker that owns the model.
    public let worker: RouteWorker
    /// Catalogues by name, in load order; replaced whole by a reload.
    public var catalogues: [(name: String, catalogue: ToolCatalogue)] { catalogueList.withLock { $0 } }
    let catalogueList: Mutex<[(name: String, catalogue: ToolCatalogue)]>
    /// Deadline for requests that name none.
    public let defaultDeadlineMs: Int
    /// The tool handlers `call` dispatches to (nil: no handler socket, every call answers `no handler`).
    public let handlers: HandlerRegistry?
    /// The MCP servers whose catalogues' calls go to them as `tools/call` (nil: none configured).
    public let mcp: MCPServers?
    /// Time a handler has to answer.
    public let handlerTimeoutMs: Int
    /// Where the one line per request goes (info: id, operation, catalogue, tool, outcome, time; the
    /// request's text only at debug).
    public let logger: Logger
    /// The Prometheus metrics.
    public let metrics = DaemonMetrics()
    /// The BLAS kernels in use and their check, shown by `health` (nil: not reported).
    public let blas: JSONValue?
    /// Set when a stop begins: calls waiting on a handler are answered `shutting_down` at its deadline.
    public let stopDeadline = StopDeadline()
    let counters = ServiceCounters()
    let started = MonotonicClock.now()

    /// A service over `worker` serving `catalogues`, dispatching calls to `handlers`.
    public init(worker: RouteWorker, catalogues: [(name: String, catalogue: ToolCatalogue)], defaultDeadlineMs: Int,
                handlers: HandlerRegistry? = nil, handlerTimeoutMs: Int = 5000, blas: JSONValue? = nil, mcp: MCPServers? = nil,
                logger: Logger = Logger(label: "toolrouter")) {
        self.blas = blas
        self.mcp = mcp
        self.worker = worker
        self.catalogueList = Mutex(catalogues)
        self.defaultDeadlineMs = defaultDeadlineMs
        self.handlers = handlers
        self.handlerTimeoutMs = handlerTimeoutMs
        self.logger = logger
    }

    // MARK: Operations

    /// Decides and validates a call for `params` without dispatching it.
    public func route(_ params: RouteParams, origin: RequestOrigin) async -> Result<RouteResult, ServiceError> {
        let start = MonotonicClock.now()
        let outcome = await decide(params)
        finish(.route, origin: origin, params: params, call: try? outcome.get().call, timings: try? outcome.get().timings,
               error: outcome.failure, start: start)
        return outcome
    }

    /// Decides, validates and dispatches a call for `params`; `no_tool` is answered without a handler.
    public func call(_ params: RouteParams, origin: RequestOrigin) async -> Result<CallOutcome, ServiceError> {
        let start = MonotonicClock.now()
        let outcome: Result<CallOutcome, ServiceError>
        var decided: ToolCall?
        switch await decide(params) {
        case .failure(let error): outcome = .failure(error)
        case .success(let routed):
            decided = routed.call
            outcome = await dispatch(routed, params: params)
        }
        finish(.call, origin: origin, params: params, call: decided, timings: try? outcome.get().routed.timings,
               error: outcome.failure, start: start)
        return outcome
    }

    /// The catalogues named (all when `name` is nil), each with its tools; `unknownCatalogue` for a name
    /// not loaded. `privileged` peers see each online tool's owner uid.
    public func list(catalogue name: String?, privileged: Bool, origin: RequestOrigin) -> Result<JSONValue, ServiceError> {
        let start = MonotonicClock.now()
        let selected = catalogues.filter { name == nil || $0.name == name }
        let outcome: Result<JSONValue, ServiceError>
        if let name, selected.isEmpty {
            outcome = .failure(unknownCatalogue(name))
        } else {
            outcome = .success(.object(selected.map { entry in (key: entry.name, value: toolsJSON(entry, privileged: privileged)) }))
        }
        finish(.list, origin: origin, params: nil, call: nil, timings: nil, error: outcome.failure, start: start)
        return outcome
    }

    /// Liveness: status, queue depth, handlers online per tool, the BLAS check; handler owners for
    /// `privileged` peers.
    public func health(privileged: Bool, origin: RequestOrigin) -> JSONValue {
        let start = MonotonicClock.now()
        var members: [(key: String, value: JSONValue)] = [("status", .string("ok")), ("queued", .number(JSONNumber(worker.queuedCount))),
                                                          ("handlers", handlersJSON())]
        if privileged { members.append(("handler_owners", ownersJSON())) }
        if let mcp { members.append(("mcp_servers", mcp.status)) }
        if let blas { members.append(("blas", blas)) }
        finish(.health, origin: origin, params: nil, call: nil, timings: nil, error: nil, start: start)
        return .object(members)
    }

    /// Counters as JSON.
    public func stats(origin: RequestOrigin) -> JSONValue {
        let start = MonotonicClock.now()
        let value: JSONValue = .object([
            ("requests", .number(JSONNumber(counters.requests.load(ordering: .relaxed)))),
            ("routed", .number(JSONNumber(counters.routed.load(ordering: .relaxed)))),
            ("failed", .number(JSONNumber(counters.failed.load(ordering: .relaxed)))),
            ("queued", .number(JSONNumber(worker.queuedCount))),
            ("uptime_s", .number(JSONNumber((MonotonicClock.now() - started).rounded()))),
        ])
        finish(.stats, origin: origin, params: nil, call: nil, timings: nil, error: nil, start: start)
        return value
    }

    /// Every metric in the Prometheus text format, the queue depth as of now.
    public func prometheusText(origin: RequestOrigin) -> String {
        let start = MonotonicClock.now()
        let text = metrics.text(queued: worker.queuedCount)
        finish(.stats, origin: origin, params: nil, call: nil, timings: nil, error: nil, start: start)
        return text
    }

    /// Logs and counts an operation the protocol refused before running it (a parameter problem).
    public func reject(_ operation: ServiceOperation, origin: RequestOrigin, _ error: ServiceError) {
        finish(operation, origin: origin, params: nil, call: nil, timings: nil, error: error, start: MonotonicClock.now())
    }

    /// Counts a request the protocol refused before it became an operation (unparseable, too large).
    public func countRefused(_ proto: ServiceProtocol) {
        counters.requests.add(1, ordering: .relaxed)
        counters.failed.add(1, ordering: .relaxed)
        metrics.recordRefused(protocol: proto.rawValue)
    }

    // MARK: Routing and dispatch

    /// Sends a routed call to its handler. The call was validated against the catalogue it was decoded
    /// under; a reload may have changed that catalogue since, so it is validated again against the
    /// catalogue served now, and not dispatched (`catalogueChanged`) if its catalogue or tool left or it
    /// no longer validates. Calls of ad-hoc catalogues have no handlers: `noHandler`.
    func dispatch(_ routed: RouteResult, params: RouteParams) async -> Result<CallOutcome, ServiceError> {
        var result = routed
        if case .noTool = result.call { return .success(CallOutcome(routed: result, result: nil)) }
        let current = params.adHoc == nil ? loadedCatalogue(for: params) : nil
        if params.adHoc == nil, let problem = Self.invalidAtDispatch(result.call, request: params.input, current: current) { return .failure(problem) }
        if let mcp, case .tool(let tool, let arguments) = result.call, let catalogue = current?.name, mcp.serves(catalogue) {
            let dispatchStart = MonotonicClock.now()
            let timeoutMs = stopDeadline.remaining.map { max(1, min(handlerTimeoutMs, Int($0 * 1000))) } ?? handlerTimeoutMs
            let outcome = await mcp.call(server: catalogue, tool: tool, arguments: arguments, timeoutMs: timeoutMs)
            result.timings.dispatchMs = (MonotonicClock.now() - dispatchStart) * 1000
            result.timings.totalMs += result.timings.dispatchMs
            switch outcome {
            case .success(let value): return .success(CallOutcome(routed: result, result: value))
            case .failure(var failure):
                failure.data = .object([("call", result.call.json)] + (failure.data.map { [("handler", $0)] } ?? []))
                return .failure(failure)
            }
        }
        guard let handlers, case .tool(let tool, let arguments) = result.call, let catalogue = current?.name else {
            let why = params.adHoc == nil ? "no handler is registered for tool '\(result.call.toolName)'"
                                          : "tool '\(result.call.toolName)' came with the request: no handler serves request-supplied tools"
            return .failure(ServiceError(.noHandler, why, data: .object([("call", result.call.json)])))
        }
        let dispatchStart = MonotonicClock.now()
        let outcome = await invokeBeforeStop(handlers, catalogue: catalogue, tool: tool, arguments: arguments)
        result.timings.dispatchMs = (MonotonicClock.now() - dispatchStart) * 1000
        result.timings.totalMs += result.timings.dispatchMs
        switch outcome {
        case .success(let value):
            return .success(CallOutcome(routed: result, result: value))
        case .failure(let error):
            var failure = ServiceError.handler(error)
            failure.data = .object([("call", result.call.json)] + (error.data.map { [("handler", $0)] } ?? []))
            return .failure(failure)
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
    static func invalidAtDispatch(_ call: ToolCall, request: String, current: (name: String, catalogue: ToolCatalogue)?) -> ServiceError? {
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
        return ServiceError(.catalogueChanged, "catalogue changed since the call was decoded: \(issues.joined(separator: "; ")); not dispatched",
                            data: .object([("call", call.json), ("issues", .array(issues.map(JSONValue.string)))]))
    }

    private func decide(_ params: RouteParams) async -> Result<RouteResult, ServiceError> {
        if params.adHoc == nil, let name = params.catalogue, !catalogues.contains(where: { $0.name == name }) {
            return .failure(unknownCatalogue(name))
        }
        let request = RouteRequest(catalogue: params.catalogue, input: params.input, toolChoice: params.toolChoice, adHoc: params.adHoc)
        switch await worker.route(request, deadlineMs: Double(params.deadlineMs ?? defaultDeadlineMs)) {
        case .success(let result):
            counters.routed.add(1, ordering: .relaxed)
            return .success(result)
        case .failure(let failure):
            return .failure(ServiceError.routing(failure))
        }
    }

    /// The loaded catalogue a route or call names, or the only one loaded when it names none; nil when the
    /// name is unknown or several are loaded and none is named.
    func loadedCatalogue(for params: RouteParams) -> (name: String, catalogue: ToolCatalogue)? {
        let loaded = catalogues
        guard let name = params.catalogue else { return loaded.count == 1 ? loaded[0] : nil }
        return loaded.first { $0.name == name }
    }

    func unknownCatalogue(_ name: String?) -> ServiceError {
        ServiceError(.unknownCatalogue, "\(RouteError.unknownCatalogue(name, loaded: catalogues.map(\.name)))")
    }

    // MARK: Reports

    /// `{"catalogue": {"tool": handler count}}` for the tools that have handlers, in catalogue order.
    private func handlersJSON() -> JSONValue {
        let online = onlineTools()
        return .object(catalogues.map { entry in
            let counts = online[entry.name] ?? [:]
            return (key: entry.name, value: .object(entry.catalogue.tools.compactMap { tool in
                counts[tool.name].map { (key: tool.name, value: .number(JSONNumber($0))) }
            }))
        })
    }

    /// Handlers online per catalogue and tool: the handler socket's, and one for each tool of a running MCP server.
    private func onlineTools() -> [String: [String: Int]] {
        var online = handlers?.onlineTools ?? [:]
        if let mcp {
            for (name, catalogue) in catalogues where mcp.serves(name) && mcp.isRunning(name) {
                online[name] = Dictionary(uniqueKeysWithValues: catalogue.tools.map { ($0.name, 1) })
            }
        }
        return online
    }

    /// `{"catalogue": {"tool": uid}}`: the uid whose handlers serve each online tool.
    private func ownersJSON() -> JSONValue {
        let owners = handlers?.toolOwners ?? [:]
        return .object(catalogues.map { entry in
            (key: entry.name, value: .object(entry.catalogue.tools.compactMap { tool in
                owners[entry.name]?[tool.name].map { (key: tool.name, value: .number(JSONNumber(Int($0)))) }
            }))
        })
    }

    /// The listing of one catalogue: name, description, parameters, `"handlers": count`, and
    /// `"owner_uid"` (privileged peers only, online tools only).
    private func toolsJSON(_ entry: (name: String, catalogue: ToolCatalogue), privileged: Bool) -> JSONValue {
        let counts = onlineTools()[entry.name] ?? [:]
        let owners = privileged ? handlers?.toolOwners[entry.name] ?? [:] : [:]
        return .array(entry.catalogue.tools.map { tool in
            var members: [(key: String, value: JSONValue)] = [("name", .string(tool.name)), ("description", .string(tool.description)),
                                                              ("parameters", tool.parameters), ("handlers", .number(JSONNumber(counts[tool.name] ?? 0)))]
            if let uid = owners[tool.name] { members.append(("owner_uid", .number(JSONNumber(Int(uid))))) }
            return .object(members)
        })
    }

    // MARK: Logs and metrics

    /// One log line and the metrics of one finished operation.
    private func finish(_ operation: ServiceOperation, origin: RequestOrigin, params: RouteParams?, call: ToolCall?,
                        timings: RouteTimings?, error: ServiceError?, start: Double) {
        counters.requests.add(1, ordering: .relaxed)
        if error != nil { counters.failed.add(1, ordering: .relaxed) }
        let outcome = error?.kind.label ?? "ok"
        var metadata: Logger.Metadata = ["id": "\(origin.id)", "op": "\(operation.rawValue)", "protocol": "\(origin.proto.rawValue)",
                                         "outcome": "\(outcome)", "total_ms": "\(String(format: "%.1f", (MonotonicClock.now() - start) * 1000))"]
        // Label values only from bounded sets: loaded catalogue and tool names, `-`, `unknown`, `adhoc`.
        var catalogueLabel = "-"
        var entry: ToolCatalogue?
        if let params {
            if let adHoc = params.adHoc {
                catalogueLabel = "adhoc"
                metadata["catalogue"] = "\(adHoc.name)"
            } else if let found = loadedCatalogue(for: params) {
                catalogueLabel = found.name; entry = found.catalogue
                metadata["catalogue"] = "\(found.name)"
            } else {
                catalogueLabel = "unknown"
                metadata["catalogue"] = "\(params.catalogue ?? "-")"
            }
        }
        var toolLabel = "-"
        if let call {
            metadata["tool"] = "\(call.toolName)"
            let known = call.toolName == ToolCatalogue.noToolName || entry?.tool(named: call.toolName) != nil
            toolLabel = known ? call.toolName : (params?.adHoc != nil ? "adhoc" : "unknown")
        }
        logger.log(level: params == nil ? .debug : .info, "request", metadata: metadata)
        if let params, logger.logLevel <= .debug { logger.debug("request text", metadata: ["id": "\(origin.id)", "input": "\(params.input)"]) }

        var phases: [String: Double]?
        var tokens: (prompt: Int, cached: Int, generated: Int)?
        if let t = timings {
            phases = ["queue": t.queueMs, "prefill": t.prefillMs, "decode": t.decodeMs, "mask": t.maskMs, "validate": t.validateMs,
                      "dispatch": t.dispatchMs, "total": t.totalMs]
            tokens = (t.promptTokens, t.cachedTokens, t.generatedTokens)
        }
        metrics.record(operation: operation.rawValue, protocol: origin.proto.rawValue, catalogue: catalogueLabel, tool: toolLabel,
                       outcome: outcome, timings: phases, tokens: tokens)
        guard operation == .call, toolLabel != "-", toolLabel != ToolCatalogue.noToolName else { return }
        switch error?.kind {
        case nil: metrics.recordHandlerCall(catalogue: catalogueLabel, tool: toolLabel, outcome: "ok")
        case .handlerFailed?, .handlerBusy?, .handlerProtocolError?: metrics.recordHandlerCall(catalogue: catalogueLabel, tool: toolLabel, outcome: "failed")
        case .handlerTimedOut?: metrics.recordHandlerCall(catalogue: catalogueLabel, tool: toolLabel, outcome: "timed_out")
        case .noHandler?: metrics.recordHandlerCall(catalogue: catalogueLabel, tool: toolLabel, outcome: "no_handler")
        case .toolError?: metrics.recordHandlerCall(catalogue: catalogueLabel, tool: toolLabel, outcome: "tool_error")
        default: break
        }
    }
}

extension Result {
    /// The error, when it is one.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
