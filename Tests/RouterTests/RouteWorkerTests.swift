// The single inference worker: order, back-pressure, deadlines, cancellation, draining.

import Foundation
import GGUF
import Inference
import Synchronization
import Testing
import TestSupport
import Tokenizer
import ToolCalls
@testable import Router

/// A counter shared by concurrent tasks.
private final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// Collects completions from the worker thread.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(tag: Int, result: Result<RouteResult, RouteFailure>)] = []
    func add(_ tag: Int, _ result: Result<RouteResult, RouteFailure>) { lock.lock(); items.append((tag, result)); lock.unlock() }
    var all: [(tag: Int, result: Result<RouteResult, RouteFailure>)] { lock.lock(); defer { lock.unlock() }; return items }
    /// Waits until `count` completions arrived; records an issue (and the count seen) on timeout.
    func wait(for count: Int, seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) {
        let end = Date().addingTimeInterval(seconds)
        while all.count < count && Date() < end { usleep(2000) }
        if all.count < count {
            Issue.record("timed out after \(seconds) s waiting for \(count) completions; \(all.count) arrived", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Route worker", .serialized)
struct RouteWorkerTests {
    static func worker(queueDepth: Int) throws -> RouteWorker {
        let (pipeline, _) = try RequestPipelineTests.pipeline()
        return RouteWorker(pipeline: pipeline, queueDepth: queueDepth)
    }

    @Test("requests run in arrival order and complete exactly once with the pipeline's answer")
    func order() throws {
        let worker = try Self.worker(queueDepth: 16)
        let outcomes = Outcomes()
        let inputs = ["Where is my order ORD-55821?", "Hi there", "Refund ORD-1234 please, it broke", "Where is my order ORD-55821?"]
        for (i, input) in inputs.enumerated() {
            worker.submit(catalogue: "support", input: input, deadlineMs: 30_000) { outcomes.add(i, $0) }
        }
        outcomes.wait(for: inputs.count)
        worker.drain()
        let all = outcomes.all
        #expect(all.map(\.tag) == [0, 1, 2, 3])
        let texts = all.compactMap { try? $0.result.get().raw }
        #expect(texts.count == 4 && texts[0] == texts[3])
        #expect(all.allSatisfy { (try? $0.result.get().timings.queueMs) ?? -1 >= 0 })
    }

    @Test("a full queue answers overloaded at once; the rest are served")
    func overloaded() throws {
        let worker = try Self.worker(queueDepth: 2)
        let outcomes = Outcomes()
        for i in 0..<10 { worker.submit(catalogue: "support", input: "Where is ORD-1234?", deadlineMs: 30_000) { outcomes.add(i, $0) } }
        outcomes.wait(for: 10)
        worker.drain()
        let refused = outcomes.all.filter { if case .failure(.overloaded) = $0.result { return true } else { return false } }
        let served = outcomes.all.filter { if case .success = $0.result { return true } else { return false } }
        #expect(refused.count >= 7 && served.count >= 1 && refused.count + served.count == 10)
    }

    @Test("deadlines: a queued request past its deadline and one that runs out mid-decode are both dropped")
    func deadlines() throws {
        let worker = try Self.worker(queueDepth: 8)
        let outcomes = Outcomes()
        worker.submit(catalogue: "support", input: "Where is my order ORD-55821?", deadlineMs: 30_000) { outcomes.add(0, $0) }
        worker.submit(catalogue: "support", input: "Hi", deadlineMs: 1) { outcomes.add(1, $0) }        // expires while queued
        outcomes.wait(for: 2)
        worker.submit(catalogue: "support", input: "Where is my order ORD-55821?", deadlineMs: 25) { outcomes.add(2, $0) }  // expires decoding
        outcomes.wait(for: 3)
        worker.drain()
        let byTag = Dictionary(uniqueKeysWithValues: outcomes.all.map { ($0.tag, $0.result) })
        if case .success = byTag[0] {} else { Issue.record("the first request should succeed: \(String(describing: byTag[0]))") }
        if case .failure(.deadlineExceeded) = byTag[1] {} else { Issue.record("queued request: \(String(describing: byTag[1]))") }
        if case .failure(.deadlineExceeded) = byTag[2] {} else { Issue.record("decoding request: \(String(describing: byTag[2]))") }
    }

    @Test("a cancelled request is dropped, and cancelling an async caller cancels its request")
    func cancellation() async throws {
        let worker = try Self.worker(queueDepth: 8)
        let outcomes = Outcomes()
        let flag = CancellationFlag()
        worker.submit(catalogue: "support", input: "Where is my order ORD-55821?", deadlineMs: 30_000) { outcomes.add(0, $0) }
        worker.submit(catalogue: "support", input: "Hi", deadlineMs: 30_000, cancellation: flag) { outcomes.add(1, $0) }
        flag.cancel()
        let task = Task { await worker.route(catalogue: "support", input: "Where is ORD-1234?", deadlineMs: 30_000) }
        task.cancel()
        let asyncResult = await task.value
        outcomes.wait(for: 2)
        worker.drain()
        let byTag = Dictionary(uniqueKeysWithValues: outcomes.all.map { ($0.tag, $0.result) })
        if case .failure(.cancelled) = byTag[1] {} else { Issue.record("flagged request: \(String(describing: byTag[1]))") }
        if case .failure(.cancelled) = asyncResult {} else { Issue.record("cancelled task: \(asyncResult)") }
    }

    @Test("100 requests from 50 concurrent callers: every one answered exactly once")
    func concurrentCallers() async throws {
        let worker = try Self.worker(queueDepth: 128)
        let answered = Counter()
        await withTaskGroup(of: Void.self) { group in
            for caller in 0..<50 {
                group.addTask {
                    for i in 0..<2 {
                        let input = caller % 2 == 0 ? "Where is ORD-\(1000 + caller)?" : "Hello number \(i)"
                        if case .success = await worker.route(catalogue: "support", input: input, deadlineMs: 120_000) {
                            answered.increment()
                        }
                    }
                }
            }
        }
        #expect(answered.count == 100)
        worker.drain()
        let late = await worker.route(catalogue: "support", input: "late", deadlineMs: 1000)
        guard case .failure(.shuttingDown) = late else { Issue.record("a drained worker accepted work: \(late)"); return }
    }

    @Test("replace: queued requests finish on the pipeline they were accepted with, later ones use the new one; isBusy follows the work")
    func replacePipeline() throws {
        let (old, model) = try RequestPipelineTests.pipeline()
        let worker = RouteWorker(pipeline: old, queueDepth: 16)
        #expect(!worker.isBusy)
        let file = try GGUFFile(path: TestPaths.requireModel())
        let fresh = RequestPipeline(model: model, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
        try fresh.load(name: "devops", catalogue: try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/devops.tools.json").path))
        let outcomes = Outcomes()
        let progressBefore = worker.progressCounter
        for i in 0..<3 { worker.submit(catalogue: "support", input: "Where is my order ORD-55821?", deadlineMs: 120_000) { outcomes.add(i, $0) } }
        #expect(worker.isBusy)
        worker.replace(pipeline: fresh)
        worker.submit(catalogue: "devops", input: "Restart the checkout service.", deadlineMs: 120_000) { outcomes.add(3, $0) }
        worker.submit(catalogue: "support", input: "Where is my order ORD-55821?", deadlineMs: 120_000) { outcomes.add(4, $0) }
        outcomes.wait(for: 5)
        let all = Dictionary(outcomes.all.map { ($0.tag, $0.result) }, uniquingKeysWith: { first, _ in first })
        for tag in 0...3 {
            if case .failure(let failure)? = all[tag] { Issue.record("request \(tag) failed: \(failure)") }
        }
        if case .failure(.route(.unknownCatalogue))? = all[4] {} else { Issue.record("support after the swap: \(String(describing: all[4]))") }
        #expect(worker.progressCounter > progressBefore + 5, "requests and decoding steps move the counter")
        worker.drain()
        #expect(!worker.isBusy)
    }

    @Test("drain with a stop deadline: when the (injected) clock passes it, the running request stops and the queued ones are answered shuttingDown")
    func drainWithStopDeadline() throws {
        let (pipeline, _) = try RequestPipelineTests.pipeline()
        let now = Atomic<Int>(0)   // milliseconds on the worker's clock; only the test moves it
        let worker = RouteWorker(pipeline: pipeline, queueDepth: 16, clock: { Double(now.load(ordering: .relaxed)) / 1000 })
        let outcomes = Outcomes()
        let long = String(repeating: "Please look at the order history of this customer and tell me what happened. ", count: 20)
        for i in 0..<4 {
            worker.submit(RouteRequest(catalogue: "support", input: "\(i) \(long)", toolChoice: .required), deadlineMs: 3_600_000) { outcomes.add(i, $0) }
        }
        let drained = Atomic<Int>(-1)
        let drainer = Thread { drained.store(worker.drain(timeout: 10), ordering: .relaxed) }
        drainer.start()
        // Wall time passes but the worker's clock does not: nothing is cut short until the test moves it.
        let started = worker.progressCounter
        let running = Date().addingTimeInterval(60)
        while worker.progressCounter < started + 3 && Date() < running { usleep(1000) }   // polling with a deadline
        #expect(worker.progressCounter >= started + 3, "the first request never started decoding")
        now.store(11_000, ordering: .relaxed)
        outcomes.wait(for: 4)
        let all = Dictionary(outcomes.all.map { ($0.tag, $0.result) }, uniquingKeysWith: { first, _ in first })
        var cut = 0
        for tag in 0..<4 {
            switch all[tag] {
            case .failure(.shuttingDown)?: cut += 1
            case .success? where tag == 0: break   // the running one may have finished before its next step
            default: Issue.record("request \(tag): \(String(describing: all[tag]))")
            }
        }
        #expect(cut >= 3)
        let deadline = Date().addingTimeInterval(60)
        while drained.load(ordering: .relaxed) < 0 && Date() < deadline { usleep(1000) }
        #expect(drained.load(ordering: .relaxed) == cut)
        #expect(!worker.isBusy)
        #expect(refusesNewWork(worker))
    }

    /// True when a drained worker refuses new work with shuttingDown.
    private func refusesNewWork(_ worker: RouteWorker) -> Bool {
        let outcomes = Outcomes()
        worker.submit(catalogue: "support", input: "late", deadlineMs: 1000) { outcomes.add(0, $0) }
        outcomes.wait(for: 1)
        if case .failure(.shuttingDown)? = outcomes.all.first?.result { return true }
        return false
    }
}
