// A task executor with a thread of its own, for work that must keep moving when the shared cooperative
// pool is busy.
//
// Why: Swift's global executor has one thread per core (two here). Code that blocks one of them — a
// synchronous wait inside a task, or, in the test process, the many synchronous tests swift-testing runs on
// that pool — holds up every other task, and the MCP servers' supervision (start, handshake, listing,
// restart) then waited behind them: in a loaded test run a server's first listing waited over a minute.
// Tasks started with this executor as their preference run their own code on its thread
// (hops to actors still go to the actors), so supervision proceeds whatever the pool is doing.

import Foundation

/// A `TaskExecutor` that runs every job on one dedicated thread, in the order enqueued.
final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []   // guarded by `condition`

    /// Starts the executor's thread, named `name` (seen in `top -H` and debuggers).
    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    /// The thread's loop: takes jobs in order and runs them; sleeps while there are none. The thread lives
    /// as long as the process (an executor is made once per daemon).
    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
