// The agent socket end to end: a real Unix socket, the real model, the protocol's happy and unhappy paths.

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

/// A daemon's agent side on a temporary socket, with both demo catalogues loaded.
private final class RunningAgent: @unchecked Sendable {
    let path: String
    let server: AgentServer
    let worker: RouteWorker

    static func start(maxLineBytes: Int = 4096, queueDepth: Int = 64) async throws -> RunningAgent {
        let file = try GGUFFile(path: TestPaths.requireModel())
        let model = try ModelWeights(file: file)
        let pipeline = RequestPipeline(model: model, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
        var loaded: [(name: String, catalogue: ToolCatalogue)] = []
        for name in ["support", "devops"] {
            let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/\(name).tools.json").path)
            try pipeline.load(name: name, catalogue: catalogue)
            loaded.append((name, catalogue))
        }
        let worker = RouteWorker(pipeline: pipeline, queueDepth: queueDepth)
        let service = AgentService(worker: worker, catalogues: loaded, defaultDeadlineMs: 30_000)
        let path = NSTemporaryDirectory() + "toolrouter-agent-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = try await AgentServer.start(service: service, path: path, mode: 0o600, maxLineBytes: maxLineBytes)
        return RunningAgent(path: path, server: server, worker: worker)
    }

    private init(path: String, server: AgentServer, worker: RouteWorker) {
        self.path = path
        self.server = server
        self.worker = worker
    }

    func stop() async {
        await server.close()
        worker.drain()
    }
}

private func json(_ line: String) throws -> JSONValue { try JSONParser.parse(line) }
private func errorCode(_ line: String) throws -> Int? { try json(line)["error"]?["code"]?.intValue }

extension SocketSuites {
    @Suite("Agent socket", .serialized)
    struct AgentSocketTests {
        @Test("route, tools/list, health, stats and call over a real socket; bad input gets specific errors and the daemon keeps serving")
        func protocolPaths() async throws {
            let agent = try await RunningAgent.start()
            let client = try AgentClient(path: agent.path)
            func healthy() throws { #expect(try json(client.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#))["result"]?["status"]?.stringValue == "ok") }

            try healthy()
            let routed = try json(client.request(#"{"jsonrpc":"2.0","id":1,"method":"route","params":{"catalogue":"support","input":"Where is my order ORD-55821?"}}"#))
            #expect(routed["id"]?.intValue == 1)
            let call = try #require(routed["result"]?["call"])
            #expect(call["tool"]?.stringValue != nil)
            #expect((routed["result"]?["timings"]?["cached_tokens"]?.intValue ?? 0) > 20)
            #expect(routed["result"]?["raw"]?.stringValue?.hasPrefix("{\"tool\":") == true)

            let tools = try json(client.request(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#))
            #expect(tools["result"]?["support"]?.arrayValue?.count == 4 && tools["result"]?["devops"]?.arrayValue?.count == 6)

            #expect(try errorCode(client.request("{not json")) == -32700); try healthy()
            #expect(try errorCode(client.request(#"{"jsonrpc":"2.0","id":3,"method":"launch"}"#)) == -32601); try healthy()
            #expect(try errorCode(client.request(#"{"jsonrpc":"2.0","id":4,"method":"route","params":{"input":"hi"}}"#)) == -32001); try healthy()   // two catalogues: must name one
            #expect(try errorCode(client.request(#"{"jsonrpc":"2.0","id":5,"method":"route","params":{"catalogue":"nope","input":"hi"}}"#)) == -32001); try healthy()
            #expect(try errorCode(client.request(#"{"jsonrpc":"2.0","id":6,"method":"route","params":{"catalogue":"support"}}"#)) == -32602); try healthy()
            try client.write([0xFF, 0xFE, 0x00, 0x80, 0x0A])
            #expect(try errorCode(client.readLine()) == -32700); try healthy()
            // A line over the cap is answered at once, the rest of it discarded, and the connection goes on.
            try client.write(Array(String(repeating: "x", count: 10_000).utf8) + [0x0A])
            #expect(try errorCode(client.readLine()) == -32008); try healthy()

            let called = try json(client.request(#"{"jsonrpc":"2.0","id":7,"method":"call","params":{"catalogue":"support","input":"Hi! Thanks for the quick help."}}"#))
            // No handlers exist yet: either the model chose no_tool (answered with its reason) or the call has no handler.
            #expect(called["result"]?["reason"] != nil || called["error"]?["code"]?.intValue == -32004)

            let stats = try json(client.request(#"{"jsonrpc":"2.0","id":8,"method":"stats"}"#))
            #expect((stats["result"]?["requests"]?.intValue ?? 0) >= 15)
            await agent.stop()
        }

        @Test("pipelined requests on one connection are each answered once, matched by id")
        func pipelining() async throws {
            let agent = try await RunningAgent.start()
            let client = try AgentClient(path: agent.path)
            let lines = (0..<4).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"route","params":{"catalogue":"devops","input":"Restart service number \#($0)"}}"# }
            try client.write(Array((lines.joined(separator: "\n") + "\n" + #"{"jsonrpc":"2.0","id":"h","method":"health"}"# + "\n").utf8))
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try JSONWriter.compact(json(client.readLine())["id"] ?? .null)) }
            #expect(Set(ids) == Set(["0", "1", "2", "3", "\"h\""]) && ids.count == 5)
            await agent.stop()
        }

        @Test("a client that disconnects mid-request does not disturb the daemon")
        func disconnect() async throws {
            let agent = try await RunningAgent.start()
            do {
                let leaving = try AgentClient(path: agent.path)
                try leaving.send(line: #"{"jsonrpc":"2.0","id":1,"method":"route","params":{"catalogue":"support","input":"Where is ORD-1234?"}}"#)
            }   // closed before the answer
            let client = try AgentClient(path: agent.path)
            #expect(try json(client.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#))["result"]?["status"]?.stringValue == "ok")
            let routed = try json(client.request(#"{"jsonrpc":"2.0","id":2,"method":"route","params":{"catalogue":"support","input":"Where is ORD-1234?"}}"#))
            #expect(routed["result"]?["call"] != nil)
            await agent.stop()
        }
    }
}
