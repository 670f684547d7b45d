// Calls are validated again at dispatch against the catalogue served then: a reload between decoding
// and dispatch that changed the tool's schema (or removed the tool) means the call is not dispatched,
// and is answered `catalogue changed`. Also the error codes of cancelled and too-long requests.
//
// Deterministic without sleeps: the call is decoded on the real worker and pipeline, the reload
// happens, then the service's dispatch step runs — the same order a SIGHUP between the two produces.

import Foundation
import GGUF
import Inference
import JSON
import Router
import Testing
import TestSupport
import Tokenizer
import ToolCalls
@testable import Daemon

@Suite("Dispatch revalidation and error codes", .serialized)
struct DispatchRevalidationTests {
    /// One tool `set_level` whose `level` has the given schema.
    static func catalogue(level: String, tool: String = "set_level") throws -> ToolCatalogue {
        try ToolCatalogue(json: JSONParser.parse("""
            [{"type": "function", "function": {"name": "\(tool)", "description": "Sets the level.",
              "parameters": {"type": "object", "properties": {"level": \(level)}, "required": ["level"]}}}]
            """))
    }

    static func pipeline(_ catalogue: ToolCatalogue, model: ModelWeights, file: GGUFFile) throws -> RequestPipeline {
        let pipeline = RequestPipeline(model: model, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
        try pipeline.load(name: "levels", catalogue: catalogue)
        return pipeline
    }
    /// The real model serving the `levels` catalogue (`level` an integer) on a real worker, and the request
    /// both tests decode under it.
    final class Levels {
        let file: GGUFFile
        let model: ModelWeights
        let old: ToolCatalogue
        let worker: RouteWorker
        let params = RouteParams(catalogue: "levels", input: "Set the level to 5.", toolChoice: .tool("set_level"))

        init() throws {
            file = try GGUFFile(path: TestPaths.requireModel())
            model = try ModelWeights(file: file)
            old = try DispatchRevalidationTests.catalogue(level: #"{"type": "integer"}"#)
            worker = RouteWorker(pipeline: try DispatchRevalidationTests.pipeline(old, model: model, file: file), queueDepth: 4)
        }

        /// A pipeline serving `catalogue` as `levels` on the same model.
        func pipeline(_ catalogue: ToolCatalogue) throws -> RequestPipeline {
            try DispatchRevalidationTests.pipeline(catalogue, model: model, file: file)
        }

        /// The request decoded on the worker.
        func decode() async throws -> RouteResult {
            try await worker.route(RouteRequest(catalogue: "levels", input: params.input, toolChoice: params.toolChoice), deadlineMs: 120_000).get()
        }
    }


    @Test("a call decoded before a reload that made it invalid, or removed its tool, is not dispatched: catalogue changed")
    func revalidatedAtDispatch() async throws {
        let levels = try Levels()
        defer { levels.worker.drain() }
        let old = levels.old, params = levels.params
        let service = AgentService(worker: levels.worker, catalogues: [("levels", old)], defaultDeadlineMs: 120_000)

        // Decoded under the old catalogue: valid there.
        let routed = try await levels.decode()
        #expect(routed.call.toolName == "set_level")
        // Unchanged catalogue: the call passes the check and goes on to dispatch (no handler socket here).
        let unchanged = await service.core.dispatch(routed, params: params)
        #expect(unchanged.failure?.kind == .noHandler, "\(unchanged)")

        // A reload makes `level` a string: the integer the model wrote is invalid under the served schema.
        let changed = try Self.catalogue(level: #"{"type": "string"}"#)
        service.reload(pipeline: try levels.pipeline(changed), catalogues: [("levels", changed)])
        let afterChange = await service.core.dispatch(routed, params: params)
        let error = try #require(afterChange.failure)
        #expect(error.kind == .catalogueChanged, "\(error)")
        #expect(error.data?["issues"]?.arrayValue?.first?.stringValue?.contains("/level") == true, "\(error)")

        // A reload that removes the tool.
        let renamed = try Self.catalogue(level: #"{"type": "integer"}"#, tool: "set_volume")
        service.reload(pipeline: try levels.pipeline(renamed), catalogues: [("levels", renamed)])
        let afterRemoval = await service.core.dispatch(routed, params: params)
        #expect(afterRemoval.failure?.kind == .catalogueChanged)
        #expect(afterRemoval.failure?.message.contains("no longer in catalogue") == true, "\(afterRemoval)")
    }

    @Test("with a real handler on the handler socket: the valid call reaches it, the one a reload made invalid never does")
    func handlerNeverSeesTheInvalidCall() async throws {
        let levels = try Levels()
        defer { levels.worker.drain() }
        let old = levels.old, params = levels.params
        let registry = HandlerRegistry(catalogues: [("levels", old)])
        let path = NSTemporaryDirectory() + "toolrouter-revalidate-\(getpid()).sock"
        let server = try await AgentServer.startHandlers(registry: registry, path: path, mode: 0o600, maxLineBytes: 1 << 20)
        let handler = try AgentClient(path: path)
        let registered = try JSONParser.parse(try handler.request(
            #"{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"levels","tools":["set_level"]}}"#, timeout: 30))
        #expect(registered["result"]?["registered"] == .array([.string("set_level")]), "\(JSONWriter.compact(registered))")
        let service = AgentService(worker: levels.worker, catalogues: [("levels", old)], defaultDeadlineMs: 120_000,
                                   handlers: registry, handlerTimeoutMs: 60_000)
        let routed = try await levels.decode()

        /// Dispatches `routed` while the handler answers the invoke it receives; the invoke's id and arguments.
        func dispatchAnswered() async throws -> (id: Int, arguments: JSONValue?, reply: Result<CallOutcome, ServiceError>) {
            async let reply = service.core.dispatch(routed, params: params)
            let invoke = try JSONParser.parse(try handler.readLine(timeout: 60))
            let id = try #require(invoke["id"]?.intValue, "\(JSONWriter.compact(invoke))")
            try handler.send(line: #"{"jsonrpc":"2.0","id":\#(id),"result":{"ok":true}}"#)
            return (id, invoke["params"]?["arguments"], await reply)
        }

        let first = try await dispatchAnswered()
        #expect(first.arguments == routed.call.json["arguments"], "the handler got the decoded arguments")
        #expect((try? first.reply.get())?.result?["ok"] == .bool(true), "\(first.reply)")

        // The reload makes `level` a string: the decoded integer is refused before it reaches the handler.
        let changed = try Self.catalogue(level: #"{"type": "string"}"#)
        service.reload(pipeline: try levels.pipeline(changed), catalogues: [("levels", changed)])
        #expect(await service.core.dispatch(routed, params: params).failure?.kind == .catalogueChanged)

        // Back to the old schema: the next invoke the handler sees is the very next call id, so nothing was
        // sent to it in between.
        service.reload(pipeline: try levels.pipeline(old), catalogues: [("levels", old)])
        let second = try await dispatchAnswered()
        #expect(second.id == first.id + 1, "invoke ids \(first.id) then \(second.id)")
        handler.disconnect()
        await server.close()
    }

    @Test("dispatch re-checks x-from-input against the request the call was routed from")
    func groundedAtDispatch() throws {
        let grounded = try Self.catalogue(level: #"{"type": "string", "x-from-input": true}"#)
        let call = ToolCall.tool(name: "set_level", arguments: .object([("level", .string("high"))]))
        #expect(RouterService.invalidAtDispatch(call, request: "Set the level to high.", current: ("levels", grounded)) == nil)
        let refused = try #require(RouterService.invalidAtDispatch(call, request: "Set the level to 5.", current: ("levels", grounded)))
        #expect(refused.kind == .catalogueChanged)
        #expect(refused.data?["issues"]?.arrayValue?.first?.stringValue == #"/level: "high" not found in the request"#, "\(refused)")
    }

    @Test("cancelled and too-long requests have their own codes, distinct from internal error")
    func errorCodes() {
        let cancelled = RPCError(ServiceError.routing(.cancelled))
        #expect(cancelled.code == .cancelled && cancelled.code.rawValue == -32030)
        let tooLong = RPCError(ServiceError.routing(.route(.inputTooLong(tokens: 2100, capacity: 2048))))
        #expect(tooLong.code == .inputTooLong && tooLong.code.rawValue == -32031)
        #expect(tooLong.data?["tokens"]?.intValue == 2100 && tooLong.data?["capacity"]?.intValue == 2048)
        #expect(RPCErrorCode.catalogueChanged.rawValue == -32032)
        // A forced tool the input cannot ground is the request's fault, not an internal error.
        #expect(RPCError(ServiceError.routing(.route(.decoding(.ungrounded)))).code == .invalidParams)
        let codes = RPCErrorCode.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
    }
}

private extension Result {
    var failure: Failure? { if case .failure(let error) = self { return error } else { return nil } }
}
