// Fork-join over the machine's cores for the numeric kernels.

import Dispatch
import Foundation

/// Runs a body on each of `lanes` indices concurrently and waits for all of them.
///
/// The kernels split their output rows into disjoint ranges, one per lane, so no two lanes write
/// the same memory; that contract is what makes the unchecked `Sendable` box below sound.
public enum Parallel {
    /// The number of lanes the engine uses: the machine's active cores (at least 1).
    public static let lanes: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body(lane)` for every lane in `0..<lanes`, concurrently, and returns when all are done.
    /// Bodies must write disjoint memory.
    @inline(__always)
    public static func run(lanes: Int = Parallel.lanes, _ body: (Int) -> Void) {
        if lanes <= 1 { body(0); return }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in box.value(lane) }
        }
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

/// A value moved across a concurrency boundary whose safety the caller guarantees (see `Parallel`).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
