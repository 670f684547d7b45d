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
    let model = try ModelWeights(file: file)
    let pipeline = RequestPipeline(model: model, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
    let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
    try pipeline.load(name: "support", catalogue: catalogue)
    let worker = RouteWorker(pipeline: pipeline, queueDepth: queueDepth)
    let service = AgentService(worker: worker, catalogues: [("support", catalogue)], defaultDeadlineMs: 60_000)
    let path = NSTemporaryDirectory() + "toolrouter-load-\(getpid())-\(loadSockets.add()).sock"
    return (try await AgentServer.start(service: service, path: path, mode: 0o600, maxLineBytes: 4096), worker)
}

/// Numbers the test sockets.
private let loadSockets = Counter()

/// Outcomes from the client threads.
private final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Bool] = []
    func add(_ ok: Bool) { lock.lock(); items.append(ok); lock.unlock() }
    var values: [Bool] { lock.lock(); defer { lock.unlock() }; return items }
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
            let greedy = try RawSocket(path: server.path)
            let total = 50_000
            let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"health"}"#.utf8) + [0x0A]
            let batch = Array((0..<100).map { _ in line }.joined())
            /// Writes without blocking until everything is sent or the socket stays full for 2 s (the daemon
            /// stopped reading); the requests sent.
            func flood(upTo limit: Int) throws -> Int {
                var bytes = 0
                while bytes < limit * line.count {
                    let n = try greedy.writeWithoutBlocking(Array(batch.prefix(limit * line.count - bytes)))
                    bytes += n
                    if n == 0 {
                        var poller = pollfd(fd: greedy.fd, events: Int16(POLLOUT), revents: 0)
                        if poll(&poller, 1, 2000) == 0 { break }
                    }
                }
                return bytes / line.count
            }
            let sent = try flood(upTo: total)
            #expect(sent < total, "all \(total) requests went through without back-pressure")
            // Others are served promptly meanwhile.
            let other = try AgentClient(path: server.path)
            func requestsCounted() throws -> Int? {
                try JSONParser.parse(other.request(#"{"jsonrpc":"2.0","id":"s","method":"stats"}"#, timeout: 10))["result"]?["requests"]?.intValue
            }
            let countedBefore = try requestsCounted()
            for i in 0..<20 {
                let started = Date()
                let reply = try JSONParser.parse(other.request(#"{"jsonrpc":"2.0","id":\#(i),"method":"health"}"#, timeout: 10))
                #expect(reply["result"]?["status"]?.stringValue == "ok")
                #expect(Date().timeIntervalSince(started) < 2)
            }
            // The greedy client is still held back: no request of it was taken meanwhile (only the 20 health
            // requests and the second stats were counted).
            let countedAfter = try requestsCounted()
            #expect(countedBefore.map { $0 + 21 } == countedAfter, "the daemon went on with the greedy client's requests while its answers stayed unread")
            greedy.shutdownWrite()
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
            var answered = 0
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
                    let reply = try client.readLine(timeout: 30)
                    let value = try JSONParser.parse(reply)
                    #expect(value["jsonrpc"]?.stringValue == "2.0", "connection \(connection): \(reply)")
                    if value["result"] != nil || value["error"] != nil { answered += 1 }
                }
                // Exactly one answer each: the next line is the answer to this marker, not a late extra answer.
                let marker = try JSONParser.parse(client.request(#"{"jsonrpc":"2.0","id":"end-\#(connection)","method":"health"}"#, timeout: 30))
                #expect(marker["id"]?.stringValue == "end-\(connection)", "an extra answer arrived on connection \(connection)")
            }
            #expect(answered == 10_000, "\(10_000 - answered) messages got no result or error")
            let client = try AgentClient(path: server.path)
            #expect(try JSONParser.parse(client.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#))["result"] != nil)
            // Closed connections are released by the event loop shortly after the clients go.
            let released = waitUntil(timeout: 10) { openDescriptors() <= before + 2 }
            #expect(released, "descriptors before \(before), after \(openDescriptors())")
            await server.close()
            worker.drain()
        }
    }
}
