// The OpenAI HTTP adapter: one HTTP request (method, path, headers, body) in, one answer out, over the
// protocol-neutral `RouterService`. The transport (NIOHTTP1, framing, keep-alive, the gate) is in
// HTTPConnection.swift; what a chat request may contain is in the OpenAIAPI target.
//
// Endpoints: `POST /v1/chat/completions`, `GET /v1/models` (and `/v1/models/{id}`), `GET /health`,
// `GET /metrics` (Prometheus text). Which catalogue answers a chat request:
// - no `tools`: `model` names a loaded catalogue, served with its adapter;
// - `tools` given: they are the catalogue. If they are exactly a loaded catalogue's tools (same content
//   hash), that catalogue serves, adapter included; otherwise they are compiled for the request (cached
//   by content hash) and routed with the base model. `model` is then `toolrouter` or the name of the
//   catalogue whose tools they are: a catalogue name with other tools is refused, since its adapter was
//   trained for its own tools and nothing else.

import Foundation
import JSON
import OpenAIAPI
import Router
import ToolCalls

/// An HTTP answer: status, content type, body (or server-sent events), extra headers.
public struct HTTPAnswer: Sendable {
    /// The status code.
    public var status: Int
    /// `content-type`.
    public var contentType: String
    /// The body (for a stream, the events one after another).
    public var body: [UInt8]
    /// Server-sent events, written as they are (nil: a plain body).
    public var events: [String]?
    /// Other headers (`retry-after`).
    public var headers: [(String, String)] = []

    /// A JSON answer.
    static func json(_ status: Int, _ value: JSONValue) -> HTTPAnswer {
        HTTPAnswer(status: status, contentType: "application/json", body: Array(JSONWriter.compact(value).utf8))
    }

    /// An OpenAI error answer.
    static func error(_ error: OpenAIError) -> HTTPAnswer {
        var answer = json(error.status, error.json)
        if error.status == 503 { answer.headers.append(("retry-after", "1")) }
        return answer
    }
}

/// Answers HTTP requests over a `RouterService`. Thread-safe.
public final class OpenAIHTTPService: Sendable {
    /// The service core every protocol shares.
    public let core: RouterService
    /// The bearer token every request must carry (nil: none needed; the socket's peer checks apply).
    let token: [UInt8]?
    /// Parser limits for request bodies (the size limit is `max_message_bytes`).
    let limits: JSONLimits

    /// The adapter over `core`; with `token`, every request needs `Authorization: Bearer <token>`.
    public init(core: RouterService, token: String? = nil, maxMessageBytes: Int = 1 << 20) {
        self.core = core
        self.token = token.map { Array($0.utf8) }
        self.limits = .protocolLine(maxBytes: maxMessageBytes)
    }

    /// The answer to one request. `privileged`: the peer may see handler owners in `/health`.
    public func respond(method: String, path: String, authorization: String?, body: [UInt8], privileged: Bool) async -> HTTPAnswer {
        let origin = RequestOrigin(.http, id: "http-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        if let token, !Self.bearerMatches(authorization, token) {
            core.countRefused(.http)
            return .error(OpenAIError(status: 401, message: "missing or wrong bearer token (Authorization: Bearer …)", code: "invalid_api_key"))
        }
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch (method, route) {
        case ("POST", "/v1/chat/completions"):
            return await chat(body: body, origin: origin)
        case ("GET", "/v1/models"):
            // The core's `list`, in OpenAI's shape (logged and counted as a list operation).
            let names = (try? core.list(catalogue: nil, privileged: privileged, origin: origin).get())?.objectMembers?.map(\.key) ?? []
            return .json(200, OpenAIModels.list(catalogues: names, created: Self.started))
        case ("GET", _) where route.hasPrefix("/v1/models/"):
            let id = String(route.dropFirst("/v1/models/".count))
            let known = core.catalogues.map(\.name) + [OpenAIModels.baseModel]
            guard known.contains(id) else {
                return .error(OpenAIError(status: 404, message: "model '\(id)' does not exist; models: \(known.joined(separator: ", "))",
                                          param: "model", code: "model_not_found"))
            }
            return .json(200, .object([("id", .string(id)), ("object", .string("model")), ("created", .number(JSONNumber(Self.started))),
                                       ("owned_by", .string("toolrouter"))]))
        case ("GET", "/health"):
            return .json(200, core.health(privileged: privileged, origin: origin))
        case ("GET", "/metrics"):
            return HTTPAnswer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(core.prometheusText(origin: origin).utf8))
        case (_, "/v1/chat/completions"), (_, "/v1/models"), (_, "/health"), (_, "/metrics"):
            return .error(OpenAIError(status: 405, message: "method \(method) is not allowed on \(route)", code: "method_not_allowed"))
        default:
            return .error(OpenAIError(status: 404, message: "no endpoint \(route) (endpoints: POST /v1/chat/completions, GET /v1/models, GET /health, GET /metrics)",
                                      code: "not_found"))
        }
    }

    /// The answer to a request body larger than the cap (its bytes were not kept).
    public func tooLarge(limit: Int) -> HTTPAnswer {
        core.countRefused(.http)
        return .error(OpenAIError(status: 413, message: "request body larger than \(limit) bytes (max_message_bytes)", code: "message_too_large"))
    }

    // MARK: Chat completions

    private func chat(body: [UInt8], origin: RequestOrigin) async -> HTTPAnswer {
        let request: ChatRequest
        do {
            let json: JSONValue
            do { json = try JSONParser.parse(bytes: body, limits: limits) } catch {
                throw OpenAIError.invalid(param: nil, "the body is not valid JSON: \(error)")
            }
            request = try ChatRequest(json: json)
        } catch let error as OpenAIError {
            core.reject(.route, origin: origin, ServiceError(.invalidParams, error.message, field: error.param))
            return .error(error)
        } catch {
            return .error(OpenAIError(status: 500, message: "\(error)"))
        }
        let params: RouteParams
        switch self.params(for: request) {
        case .failure(let error):
            core.reject(request.dispatch ? .call : .route, origin: origin, ServiceError(.invalidParams, error.message, field: error.param))
            return .error(error)
        case .success(let found): params = found
        }
        let created = Int(Date().timeIntervalSince1970)
        let answer: ChatAnswer
        switch request.turn {
        case .toolResults(let text):
            // The request was answered by the calls whose results these are: the results are the reply.
            answer = ChatAnswer(model: request.model, created: created, call: nil, content: text, promptTokens: 0, completionTokens: 0,
                                toolrouter: .object([("answered_by", .string("tool_results"))]))
        case .route:
            let routed: RouteResult
            var result: JSONValue?
            if request.dispatch {
                switch await core.call(params, origin: origin) {
                case .failure(let error): return .error(Self.openAIError(error))
                case .success(let outcome): routed = outcome.routed; result = outcome.result
                }
            } else {
                switch await core.route(params, origin: origin) {
                case .failure(let error): return .error(Self.openAIError(error))
                case .success(let found): routed = found
                }
            }
            var ext: [(key: String, value: JSONValue)] = [("catalogue", .string(params.adHoc?.name ?? params.catalogue ?? request.model)),
                                                          ("raw", .string(routed.raw)), ("timings", AgentService.timingsJSON(routed.timings))]
            if request.dispatch, routed.call.toolName != ToolCatalogue.noToolName { ext.append(("result", result ?? .null)) }
            let content: String?
            if case .noTool(let reason) = routed.call { content = reason } else { content = nil }
            answer = ChatAnswer(model: request.model, created: created, call: routed.call, content: content,
                                promptTokens: routed.timings.promptTokens, completionTokens: routed.timings.generatedTokens,
                                toolrouter: .object(ext))
        }
        if request.stream {
            let events = answer.events(includeUsage: request.includeUsage)
            return HTTPAnswer(status: 200, contentType: "text/event-stream", body: Array(events.joined().utf8), events: events,
                              headers: [("cache-control", "no-cache")])
        }
        return .json(200, answer.completion)
    }

    /// The route params of a chat request: which catalogue serves it (see the file header), the text, the
    /// tool choice and the deadline.
    func params(for request: ChatRequest) -> Result<RouteParams, OpenAIError> {
        let loaded = core.catalogues
        let input: String
        switch request.turn {
        case .route(let text): input = text
        case .toolResults: input = "-"
        }
        var params = RouteParams(input: input, deadlineMs: request.deadlineMs, toolChoice: request.toolChoice.toolChoice)
        let named = loaded.first { $0.name == request.model }
        guard named != nil || request.model == OpenAIModels.baseModel else {
            let known = loaded.map(\.name) + [OpenAIModels.baseModel]
            return .failure(OpenAIError(status: 404, message: "model '\(request.model)' does not exist; models: \(known.joined(separator: ", "))",
                                        param: "model", code: "model_not_found"))
        }
        guard let tools = request.tools else {
            guard let named else {
                return .failure(.invalid(param: "tools", "required with model '\(OpenAIModels.baseModel)' (the base model has no catalogue of its own)"))
            }
            params.catalogue = named.name
            if case .tool(let name) = params.toolChoice, named.catalogue.tool(named: name) == nil {
                return .failure(.invalid(param: "tool_choice", "catalogue '\(named.name)' has no function '\(name)'"))
            }
            return .success(params)
        }
        let adHoc = AdHocCatalogue(tools)
        if let same = loaded.first(where: { CatalogueFingerprint(catalogue: $0.catalogue).sha256 == adHoc.key }),
           named == nil || named?.name == same.name {
            params.catalogue = same.name
            return .success(params)
        }
        if let named {
            return .failure(.invalid(param: "tools", "differ from catalogue '\(named.name)''s tools, and its adapter knows only those; "
                                         + "send model '\(OpenAIModels.baseModel)' to route over these tools with the base model, or omit tools"))
        }
        params.adHoc = adHoc
        return .success(params)
    }

    /// The OpenAI form of a service failure: status, type, the parameter, a code.
    static func openAIError(_ error: ServiceError) -> OpenAIError {
        let status: Int
        var param = error.field
        switch error.kind {
        case .invalidParams: status = 400; if param == "input" { param = "messages" }
        case .inputTooLong: status = 400; param = "messages"
        case .unknownCatalogue: status = 404; param = "model"
        case .catalogueChanged: status = 409
        case .noHandler: status = 424
        case .internalError, .invalidCall: status = 500
        case .handlerFailed, .handlerProtocolError, .toolError: status = 502
        case .overloaded, .shuttingDown, .handlerBusy: status = 503
        case .deadlineExceeded, .handlerTimedOut: status = 504
        case .cancelled: status = 499
        }
        let code = error.kind == .inputTooLong ? "context_length_exceeded" : error.kind.label
        return OpenAIError(status: status, message: error.message, param: param, code: code, detail: error.data)
    }

    /// Whether `header` is `Bearer <token>`, compared in time independent of where they differ.
    static func bearerMatches(_ header: String?, _ token: [UInt8]) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.utf8.dropFirst("Bearer ".utf8.count))
        var difference = UInt8(given.count == token.count ? 0 : 1)
        for i in 0..<max(given.count, token.count) {
            difference |= (i < given.count ? given[i] : 0) ^ (i < token.count ? token[i] : 0)
        }
        return difference == 0
    }

    /// When the daemon started (the `created` of every model).
    static let started = Int(Date().timeIntervalSince1970)
}
