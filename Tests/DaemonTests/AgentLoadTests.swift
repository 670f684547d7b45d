// The agent socket under load: many clients, a full queue, and a fuzzing client.

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

/// The daemon's agent side with the support catalogue, on a temporary socket.
private func startAgent(queueDepth: Int) async throws -> (AgentServer, RouteWorker) {
    let file = try GGUFFile(path: TestPaths.requireModel())
    let model = try LlamaModel(file: file)
    let pipeline = RequestPipeline(model: model, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
    let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
    try pipeline.load(name: "support", catalogue: catalogue)
    let worker = RouteWorker(pipeline: pipeline, queueDepth: queueDepth)
    let service = AgentService(worker: worker, catalogues: [("support", catalogue)], defaultDeadlineMs: 60_000)
    let path = NSTemporaryDirectory() + "toolrouter-load-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    return (try await AgentServer.start(service: service, path: path, mode: 0o600, maxLineBytes: 4096), worker)
}

/// Outcomes from the client threads.
private final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Bool] = []
    func add(_ ok: Bool) { lock.lock(); items.append(ok); lock.unlock() }
    var values: [Bool] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Hands a client to the one thread that writes on it (the test only disconnects it).
private final class ClientHandle: @unchecked Sendable {
    let client: AgentClient
    init(_ client: AgentClient) { self.client = client }
}

private func openDescriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }

extension SocketSuites {
    @Suite("Agent socket under load", .serialized)
    struct AgentLoadTests {
        @Test("50 concurrent clients × 20 pipelined requests: every one answered exactly once")
        func manyClients() async throws {
            let (server, worker) = try await startAgent(queueDepth: 256)
            // Blocking clients run on their own threads: blocking inside tasks would starve the cooperative
            // pool that the daemon's request tasks need.
            let results = ResultsBox()
            let threads = (0..<50).map { c in
                Thread {
                    do {
                        let client = try AgentClient(path: server.path)
                        var batch = ""
                        for i in 0..<20 {
                            let method = i == 0 ? #""route","params":{"input":"Where is ORD-\#(1000 + c)?"}"#
                                : [#""health""#, #""tools/list""#, #""stats""#][i % 3]
                            batch += #"{"jsonrpc":"2.0","id":\#(i),"method":\#(method)}"# + "\n"
                        }
                        try client.write(Array(batch.utf8))
                        var ids: [Int] = []
                        for _ in 0..<20 { ids.append(try JSONParser.parse(client.readLine(timeout: 300))["id"]?.intValue ?? -1) }
                        results.add(ids.sorted() == Array(0..<20))
                    } catch {
                        results.add(false)
                    }
                }
            }
            threads.forEach { $0.start() }
            while threads.contains(where: { !$0.isFinished }) { try await Task.sleep(nanoseconds: 20_000_000) }
            let answeredAll = results.values.count == 50 && results.values.allSatisfy { $0 }
            #expect(answeredAll)
            await server.close()
            worker.drain()
        }

        @Test("a full queue answers overloaded over the socket, and the daemon keeps serving")
        func fullQueue() async throws {
            let (server, worker) = try await startAgent(queueDepth: 1)
            let client = try AgentClient(path: server.path)
            let batch = (0..<8).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"route","params":{"input":"Where is my order ORD-55821?"}}"# }
            try client.write(Array((batch.joined(separator: "\n") + "\n").utf8))
            var codes: [Int?] = []
            for _ in 0..<8 { codes.append(try JSONParser.parse(client.readLine(timeout: 120))["error"]?["code"]?.intValue) }
            #expect(codes.filter { $0 == -32002 }.count >= 1)
            #expect(codes.filter { $0 == nil }.count >= 1)
            #expect(try JSONParser.parse(client.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#))["result"] != nil)
            await server.close()
            worker.drain()
        }

        @Test("a client that sends without ever reading is throttled by back-pressure and stalls nobody else")
        func slowReader() async throws {
            let (server, worker) = try await startAgent(queueDepth: 64)
            let greedy = try AgentClient(path: server.path)
            let total = 50_000
            let written = ResultsBox()
            let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"health"}"#.utf8) + [0x0A]
            let box = ClientHandle(greedy)
            let writer = Thread {
                for _ in 0..<total {
                    guard (try? box.client.write(line)) != nil else { return }
                    written.add(true)
                }
            }
            writer.start()
            try await Task.sleep(nanoseconds: 1_000_000_000)
            // Others are served promptly meanwhile.
            let other = try AgentClient(path: server.path)
            for i in 0..<20 {
                let started = Date()
                let reply = try JSONParser.parse(other.request(#"{"jsonrpc":"2.0","id":\#(i),"method":"health"}"#, timeout: 10))
                #expect(reply["result"]?["status"]?.stringValue == "ok")
                #expect(Date().timeIntervalSince(started) < 2)
            }
            // The greedy client is held back: its writes block once the daemon stops reading it.
            let sentBefore = written.values.count
            try await Task.sleep(nanoseconds: 500_000_000)
            #expect(written.values.count < total, "all \(total) requests went through without back-pressure")
            #expect(written.values.count == sentBefore, "the greedy client kept writing while unread answers piled up")
            greedy.disconnect()
            while !writer.isFinished { try await Task.sleep(nanoseconds: 10_000_000) }
            #expect(try JSONParser.parse(other.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#))["result"] != nil)
            await server.close()
            worker.drain()
        }

        @Test("10,000 random and mutated messages: no crash, every reply is JSON-RPC, no leaked connections")
        func fuzz() async throws {
            let (server, worker) = try await startAgent(queueDepth: 64)
            let before = openDescriptors()
            var rng = SeededRandom(state: 4242)
            let seeds = [#"{"jsonrpc":"2.0","id":1,"method":"health"}"#, #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#,
                         #"{"jsonrpc":"2.0","id":3,"method":"stats"}"#, #"{"jsonrpc":"2.0","id":4,"method":"route","params":{"input":""}}"#]
            var sent = 0
            for connection in 0..<20 {
                let client = try AgentClient(path: server.path)
                for _ in 0..<500 {
                    var bytes = Array(seeds[Int.random(in: 0..<seeds.count, using: &rng)].utf8)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: bytes = (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }.filter { $0 != 0x0A }
                    case 1: for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                            bytes.removeAll { $0 == 0x0A }
                    case 2: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
                    default: break
                    }
                    if bytes.isEmpty { bytes = [0x7B] }
                    try client.write(bytes + [0x0A])
                    sent += 1
                    let reply = try client.readLine(timeout: 30)
                    let value = try JSONParser.parse(reply)
                    #expect(value["jsonrpc"]?.stringValue == "2.0", "connection \(connection): \(reply)")
                }
            }
            #expect(sent == 10_000)
            let client = try AgentClient(path: server.path)
            #expect(try JSONParser.parse(client.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#))["result"] != nil)
            try await Task.sleep(nanoseconds: 200_000_000)
            #expect(openDescriptors() <= before + 2, "descriptors before \(before), after \(openDescriptors())")
            await server.close()
            worker.drain()
        }
    }
}
