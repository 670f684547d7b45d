// Fork-join over the machine's cores for the numeric kernels.
//
// Decode runs ~150 parallel regions per token, each a few tens of microseconds long, so waking a
// sleeping thread for each (what libdispatch does) would cost more than the work. Workers here spin
// on an atomic generation counter while work keeps coming, and park on a condition variable after
// a short idle spell, so an idle daemon burns no CPU.

import Foundation
import Synchronization

/// Runs a body on each of `lanes` indices concurrently and waits for all of them.
///
/// The kernels split their output rows into disjoint ranges, one per lane, so no two lanes write
/// the same memory; that contract is what makes sharing the body across threads sound.
public enum Parallel {
    /// The number of lanes the engine uses: the machine's active cores (at least 1), or
    /// `TOOLROUTER_THREADS` when set.
    public static let lanes: Int = {
        if let text = ProcessInfo.processInfo.environment["TOOLROUTER_THREADS"], let n = Int(text), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// The process-wide pool behind `run` (lanes − 1 worker threads; the caller is lane 0).
    static let pool = WorkerPool(workers: lanes - 1)

    /// Calls `body(lane)` for every lane in `0..<Parallel.lanes`, concurrently, and returns when all
    /// are done. Bodies must write disjoint memory. Calls from several threads at once are serialised.
    @inline(__always)
    public static func run(_ body: (Int) -> Void) {
        if pool.workers == 0 { body(0); return }
        pool.run(body)
    }

    /// The half-open slice of `0..<count` that `lane` of `lanes` owns, aligned to `granule`.
    @inline(__always)
    public static func slice(_ count: Int, lane: Int, lanes: Int = Parallel.lanes, granule: Int = 1) -> Range<Int> {
        let units = (count + granule - 1) / granule
        let lo = min(count, units * lane / lanes * granule)
        let hi = min(count, units * (lane + 1) / lanes * granule)
        return lo..<hi
    }
}

/// Persistent worker threads that spin briefly for work, then park.
final class WorkerPool: @unchecked Sendable {
    /// Worker threads (lanes 1...workers); the calling thread is lane 0.
    let workers: Int
    /// Bumped once per published job; workers run each generation once.
    private let generation = Atomic<Int>(0)
    /// Workers that finished the current generation.
    private let finished = Atomic<Int>(0)
    /// Workers asleep on `wakeUp` (so `run` knows whether to signal).
    private let parked = Atomic<Int>(0)
    /// The job of the current generation; written before the generation is published, read after.
    private nonisolated(unsafe) var job: ((Int) -> Void)?
    /// Serialises callers (the pool runs one job at a time).
    private let callers = NSLock()
    private let parking = NSCondition()
    /// Spin iterations before a worker parks (~100 µs).
    private let spinLimit = 20_000

    init(workers: Int) {
        self.workers = max(0, workers)
        for lane in 1...max(1, self.workers) where self.workers > 0 {
            let thread = Thread { [self] in self.workerLoop(lane: lane) }
            thread.name = "toolrouter-lane-\(lane)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Publishes `body`, runs lane 0 on the caller, and waits for every worker.
    func run(_ body: (Int) -> Void) {
        callers.lock()
        defer { callers.unlock() }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            finished.store(0, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if parked.load(ordering: .sequentiallyConsistent) > 0 {
                parking.lock()
                parking.broadcast()
                parking.unlock()
            }
            escapable(0)
            while finished.load(ordering: .acquiring) < workers { Self.pause() }
            job = nil
        }
    }

    private func workerLoop(lane: Int) {
        // Generation 0 means "no job yet"; starting from 0 (not from a load) means a worker that starts
        // late still runs the job published before it came up.
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins < spinLimit {
                    Self.pause()
                } else {
                    parking.lock()
                    parked.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { parking.wait() }
                    parked.subtract(1, ordering: .sequentiallyConsistent)
                    parking.unlock()
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            job?(lane)
            finished.add(1, ordering: .releasing)
        }
    }

    /// A spin-wait hint. (`_mm_pause` is declared but not defined for Swift's importer, so this is
    /// a plain relaxed step; the workers are separate cores, not hyper-threads, on this kind of machine.)
    @inline(__always)
    private static func pause() {}
}
