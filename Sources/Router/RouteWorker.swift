// The single inference worker: one thread owns the pipeline (the engine already uses every core inside
// a request), fed by a bounded FIFO queue. A full queue refuses at once (overloaded); a request whose
// deadline passes, or whose client went away, is dropped — while queued or between decoding steps.
// A stop drains the queue within a stop deadline (systemd kills a service that overruns its
// TimeoutStopSec): what has not finished by then — queued or running — is answered `shuttingDown`.

import Foundation
import Inference
import Synchronization

/// Why a submitted request produced no result.
public enum RouteFailure: Error, CustomStringConvertible {
    /// The queue was full when the request arrived.
    case overloaded(queueDepth: Int)
    /// The deadline passed (in the queue or while decoding).
    case deadlineExceeded(afterMs: Double)
    /// The request was cancelled (its client disconnected).
    case cancelled
    /// The worker is shutting down and takes no new work.
    case shuttingDown
    /// The pipeline refused or failed the request.
    case route(RouteError)

    public var description: String {
        switch self {
        case .overloaded(let depth): return "overloaded: \(depth) requests already queued"
        case .deadlineExceeded(let ms): return "deadline exceeded after \(Int(ms)) ms"
        case .cancelled: return "request cancelled"
        case .shuttingDown: return "shutting down"
        case .route(let error): return "\(error)"
        }
    }
}

/// A flag a request's owner sets to drop it (e.g. when its client disconnects).
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    /// A flag that is not set.
    public init() {}
    /// Drops the request at its next check.
    public func cancel() { flag.store(true, ordering: .relaxed) }
    /// True once `cancel()` was called.
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// What `RouteWorker.submissionObserver` calls when a request has its place in the queue.
public final class SubmissionObserver: Sendable {
    /// Called on the submitting thread, right after the request was queued or refused.
    public let submitted: @Sendable () -> Void

    /// An observer calling `submitted`.
    public init(_ submitted: @escaping @Sendable () -> Void) { self.submitted = submitted }
}

/// Runs `RequestPipeline.route` on a dedicated thread, one request at a time, in arrival order.
public final class RouteWorker: @unchecked Sendable {
    /// One queued request.
    private struct Job {
        let request: RouteRequest
        let enqueued: Double
        let deadline: Double
        let cancellation: CancellationFlag
        let completion: @Sendable (Result<RouteResult, RouteFailure>) -> Void
        /// The pipeline current when the request was accepted: a reload never changes the catalogues
        /// under a request already queued.
        let pipeline: RequestPipeline
        /// Work on the pipeline itself (a catalogue added or removed), run in the request's place.
        var maintenance: (@Sendable (RequestPipeline) -> Void)? = nil
    }

    /// Requests the queue holds at most (beyond the one running).
    public let queueDepth: Int
    private var pipeline: RequestPipeline   // guarded by `condition`; jobs take it when they are queued
    private let condition = NSCondition()
    private var queue: [Job] = []          // guarded by `condition`
    private var head = 0                   // index of the oldest queued job
    private var stopping = false
    private var running = false
    /// Set when a drain's stop deadline passes: the running request stops at its next step.
    private let stopExpired = Atomic<Bool>(false)
    private let progress = Atomic<Int>(0)
    private var thread: Thread?
    /// Monotonic seconds; deadlines and the stop deadline are measured on it (injectable for tests).
    private let clock: @Sendable () -> Double

    /// A worker that owns `pipeline` (nothing else may use it afterwards). `clock` gives monotonic
    /// seconds (a test may pass its own to move time).
    public init(pipeline: RequestPipeline, queueDepth: Int, clock: @escaping @Sendable () -> Double = { MonotonicClock.now() }) {
        self.pipeline = pipeline
        self.queueDepth = max(1, queueDepth)
        self.clock = clock
        // The thread holds the worker while it runs (until `drain()`), and only from the moment it starts: a
        // worker dropped before its thread got going (a start-up that fails after creating it) is simply gone.
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "toolrouter-inference"
        thread.stackSize = 4 << 20
        self.thread = thread
        thread.start()
    }

    /// Requests waiting (not counting the one running).
    public var queuedCount: Int {
        condition.lock(); defer { condition.unlock() }
        return queue.count - head
    }

    /// Steps of work done so far (requests started, decoding steps); a watchdog sees it move.
    public var progressCounter: Int { progress.load(ordering: .relaxed) }

    /// True while a request is running or waiting (a watchdog expects `progressCounter` to move then).
    public var isBusy: Bool {
        condition.lock(); defer { condition.unlock() }
        return running || head < queue.count
    }

    /// Serves every request accepted from now on with `pipeline` (a reload). Requests already queued
    /// or running finish on the pipeline they were accepted with, so the swap happens between requests
    /// and none of them sees its catalogue change or disappear; the old pipeline is released after
    /// its last request. `pipeline` is owned by the worker from now on.
    public func replace(pipeline: RequestPipeline) {
        condition.lock()
        self.pipeline = pipeline
        condition.unlock()
    }

    /// Queues a request; `completion` runs exactly once, on the worker thread (or at once if refused).
    public func submit(catalogue: String?, input: String, deadlineMs: Double, cancellation: CancellationFlag = CancellationFlag(),
                       completion: @escaping @Sendable (Result<RouteResult, RouteFailure>) -> Void) {
        submit(RouteRequest(catalogue: catalogue, input: input), deadlineMs: deadlineMs, cancellation: cancellation, completion: completion)
    }

    /// Queues `request`; `completion` runs exactly once, on the worker thread (or at once if refused).
    public func submit(_ request: RouteRequest, deadlineMs: Double, cancellation: CancellationFlag = CancellationFlag(),
                       completion: @escaping @Sendable (Result<RouteResult, RouteFailure>) -> Void) {
        defer { RouteWorker.submissionObserver?.submitted() }
        let now = clock()
        condition.lock()
        if stopping { condition.unlock(); completion(.failure(.shuttingDown)); return }
        if queue.count - head >= queueDepth { condition.unlock(); completion(.failure(.overloaded(queueDepth: queueDepth))); return }
        queue.append(Job(request: request, enqueued: now, deadline: now + deadlineMs / 1000,
                         cancellation: cancellation, completion: completion, pipeline: pipeline))
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the worker thread with the pipeline current now, after the requests queued before it
    /// and before those queued after: the one way to change a pipeline the worker owns (a catalogue that
    /// came from an MCP server added, rebuilt or removed). Not bounded by the queue depth; refused only
    /// while stopping.
    public func maintain<T: Sendable>(_ body: @escaping @Sendable (RequestPipeline) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: RouteFailure.shuttingDown)
                return
            }
            queue.append(Job(request: RouteRequest(input: ""), enqueued: clock(), deadline: .infinity, cancellation: CancellationFlag(),
                             // Called only when a stop cuts the queue short: the body never runs then.
                             completion: { outcome in if case .failure(let failure) = outcome { continuation.resume(throwing: failure) } },
                             pipeline: pipeline, maintenance: { pipeline in
                                 continuation.resume(with: Result { try body(pipeline) })
                             }))
            condition.signal()
            condition.unlock()
        }
    }

    /// Called by `submit` once the request has its place in the queue (or was refused), on the submitting
    /// thread, when the submitting task set it. The agent socket waits for it before it starts a connection's
    /// next line, so one connection's pipelined requests are queued in the order they were sent.
    @TaskLocal public static var submissionObserver: SubmissionObserver?

    /// Async form of `submit`: cancelling the calling task cancels the request.
    public func route(catalogue: String?, input: String, deadlineMs: Double) async -> Result<RouteResult, RouteFailure> {
        await route(RouteRequest(catalogue: catalogue, input: input), deadlineMs: deadlineMs)
    }

    /// Async form of `submit`: cancelling the calling task cancels the request.
    public func route(_ request: RouteRequest, deadlineMs: Double) async -> Result<RouteResult, RouteFailure> {
        let flag = CancellationFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                submit(request, deadlineMs: deadlineMs, cancellation: flag) { continuation.resume(returning: $0) }
            }
        } onCancel: {
            flag.cancel()
        }
    }

    /// Stops taking work, finishes every queued request, then ends the thread. Blocks until done.
    public func drain() {
        drain(timeout: .infinity)
    }

    /// Stops taking work and finishes queued requests until `timeout` seconds (on the worker's clock)
    /// have passed; then the requests still queued are answered `shuttingDown` at once and the running
    /// one stops at its next decoding step with `shuttingDown`. Blocks until no request is left; returns
    /// how many were cut short.
    @discardableResult
    public func drain(timeout: Double) -> Int {
        let deadline = clock() + timeout
        var cut = 0
        condition.lock()
        stopping = true
        condition.broadcast()
        while running || head < queue.count {
            if clock() >= deadline && !stopExpired.load(ordering: .relaxed) {
                // The running request sees the flag at its next step; the queued ones are answered now.
                stopExpired.store(true, ordering: .relaxed)
                let expired = queue[head...]
                queue.removeAll()
                head = 0
                cut = expired.count + (running ? 1 : 0)
                condition.unlock()
                for job in expired { job.completion(.failure(.shuttingDown)) }
                condition.lock()
                continue
            }
            // Re-checks the clock at least every 20 ms (it may be a test's clock, not the wall).
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout.isFinite ? 0.02 : 3600))
        }
        condition.unlock()
        return cut
    }

    private func loop() {
        while true {
            condition.lock()
            while head == queue.count && !stopping { condition.wait() }
            if head == queue.count && stopping { condition.unlock(); return }
            let job = queue[head]
            head += 1
            // Finished jobs leave the array (they hold their pipeline, which a reload may have retired).
            if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 } else if head > 64 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            running = true
            condition.unlock()

            if let maintenance = job.maintenance { maintenance(job.pipeline) } else { job.completion(run(job)) }

            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func run(_ job: Job) -> Result<RouteResult, RouteFailure> {
        let started = clock()
        progress.add(1, ordering: .relaxed)
        if stopExpired.load(ordering: .relaxed) { return .failure(.shuttingDown) }
        if job.cancellation.isCancelled { return .failure(.cancelled) }
        if started > job.deadline { return .failure(.deadlineExceeded(afterMs: (started - job.enqueued) * 1000)) }
        let stop: () -> Bool = { [self] in
            self.progress.add(1, ordering: .relaxed)
            return job.cancellation.isCancelled || self.stopExpired.load(ordering: .relaxed) || self.clock() > job.deadline
        }
        do {
            var result = try job.pipeline.route(job.request, shouldStop: stop)
            result.timings.queueMs = (started - job.enqueued) * 1000
            result.timings.totalMs += result.timings.queueMs
            return .success(result)
        } catch {
            if case .decoding(.stopped) = error {
                if stopExpired.load(ordering: .relaxed) { return .failure(.shuttingDown) }
                return .failure(job.cancellation.isCancelled ? .cancelled : .deadlineExceeded(afterMs: (clock() - job.enqueued) * 1000))
            }
            return .failure(.route(error))
        }
    }
}
