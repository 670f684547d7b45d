// Pipelined lines of one connection reach the worker's queue in line order, even when an earlier line takes
// longer to get there than a later one. The responder is instrumented (earlier lines "parse" longer, by
// yielding), the worker and its model are real, and the worker's completion order — its queue order, it
// runs one request at a time — is recorded on the worker thread itself, so the check is exact.
// SocketHardeningTests.pipelinedOrder shows the same with the real binary and real JSON lines.

import Foundation
import GGUF
import Inference
import Router
import Synchronization
import Testing
import TestSupport
import Tokenizer
import ToolCalls
@testable import Daemon

/// Answers line "i" after `(lines - i) × 50` yields, by queueing a short route on the worker; records the
/// order in which the worker finishes them.
private final class SlowStartResponder: AgentResponder {
    let worker: RouteWorker
    let lines: Int
    let finished = Mutex<[Int]>([])

    init(worker: RouteWorker, lines: Int) {
        self.worker = worker
        self.lines = lines
    }

    func respond(to line: [UInt8]) async -> [UInt8]? {
        let id = Int(String(decoding: line, as: UTF8.self)) ?? -1
        for _ in 0..<(lines - id) * 50 { await Task.yield() }
        let request = RouteRequest(catalogue: "support", input: "Where is my order ORD-\(5500 + id)?", toolChoice: .tool("track_order"))
        return await withCheckedContinuation { continuation in
            worker.submit(request, deadlineMs: 120_000) { [self] _ in
                self.finished.withLock { $0.append(id) }   // on the worker thread, in queue order
                continuation.resume(returning: Array("\(id)\n".utf8))
            }
        }
    }

    func tooLong(byteCount: Int, limit: Int) -> [UInt8] { Array("too long\n".utf8) }
}

extension SocketSuites {
    @Suite("Agent socket: line order", .serialized)
    struct AgentOrderTests {
        @Test("a connection's lines are queued in line order although later lines are ready sooner")
        func queuedInLineOrder() async throws {
            let file = try GGUFFile(path: TestPaths.requireModel())
            let pipeline = RequestPipeline(model: try ModelWeights(file: file), tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
            let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
            try pipeline.load(name: "support", catalogue: catalogue)
            let worker = RouteWorker(pipeline: pipeline, queueDepth: 64)
            let lines = 8
            let responder = SlowStartResponder(worker: worker, lines: lines)
            let path = NSTemporaryDirectory() + "toolrouter-order-\(getpid()).sock"
            let server = try await AgentServer.start(responder: responder, listen: .path(path, mode: 0o600), maxLineBytes: 64)
            let client = try AgentClient(path: path)
            try client.write(Array((0..<lines).map { "\($0)\n" }.joined().utf8))
            var answered: Set<String> = []
            for _ in 0..<lines { answered.insert(try client.readLine(timeout: 120)) }
            #expect(answered == Set((0..<lines).map(String.init)))
            #expect(responder.finished.withLock { $0 } == Array(0..<lines))
            await server.close()
            worker.drain()
        }
    }
}
