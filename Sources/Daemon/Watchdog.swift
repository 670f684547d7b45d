// The systemd watchdog, fed only while the inference worker is healthy, and the STATUS= line kept
// current.
//
// With `WatchdogSec=` systemd kills a service that stops sending WATCHDOG=1. Pinging from a timer alone
// would only prove that the timer runs; here each ping (every WATCHDOG_USEC/2) first asks the inference
// worker: it is healthy when it has nothing to do, or when its progress counter (bumped per request and
// per decoding step) moved since the previous tick. A worker stuck on one request stops the pings, and
// systemd restarts the service about one timeout later.

import Foundation
import Inference
import Logging
import Router

/// What the watchdog looks at: whether the worker has work, and how far it has got.
public struct WorkerProbe: Sendable {
    /// True while a request is running or queued.
    public let isBusy: @Sendable () -> Bool
    /// A counter that moves while the worker makes progress.
    public let progress: @Sendable () -> Int

    /// A probe made of two readings.
    public init(isBusy: @escaping @Sendable () -> Bool, progress: @escaping @Sendable () -> Int) {
        self.isBusy = isBusy
        self.progress = progress
    }

    /// The probe of a route worker (`isBusy`, `progressCounter`).
    public static func worker(_ worker: RouteWorker) -> WorkerProbe {
        WorkerProbe(isBusy: { worker.isBusy }, progress: { worker.progressCounter })
    }
}

/// The tick-by-tick verdict: healthy when idle, or when the progress counter moved since the last tick.
/// A worker that was idle at the previous tick gets one tick of grace (a request queued a moment ago
/// has not had the time to move the counter), so only a worker busy across a whole tick without
/// progress is unhealthy.
public struct ProgressCheck: Sendable, Equatable {
    /// The counter seen at the previous tick (nil before the first).
    public private(set) var lastProgress: Int?
    /// Whether the worker was busy at the previous tick.
    public private(set) var wasBusy = false

    /// A check with no history (its first tick is healthy).
    public init() {}

    /// Records this tick's reading and says whether the worker is healthy.
    public mutating func isHealthy(busy: Bool, progress: Int) -> Bool {
        defer { lastProgress = progress; wasBusy = busy }
        guard busy, wasBusy, let lastProgress else { return true }
        return progress != lastProgress
    }
}

/// Sends WATCHDOG=1 every `pingInterval` while the probe says the worker is healthy (after a withheld ping
/// it checks again every quarter interval, so a worker that recovers pings well within the timeout), and STATUS= whenever
/// the status text changes (checked every `statusInterval` seconds), from one background thread.
/// Does nothing when notifications are disabled.
public final class Watchdog: @unchecked Sendable {
    private let notifier: SystemdNotifier
    private let settings: WatchdogSettings?
    private let statusInterval: Double
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var probe: WorkerProbe?
    private var statusText: (@Sendable () -> String)?
    private var lastStatus: String?
    private var started = false
    private var stopped = false
    private var pings = 0
    private var withheld = 0
    private var consecutiveWithheld = 0
    private var sendFailed = false
    // Only touched by whoever calls `step(now:)` (the watchdog thread):
    private var check = ProgressCheck()
    /// When the next ping and the next status check are due (nil before the first step).
    private var schedule: (ping: Double, status: Double)?

    /// A watchdog for `settings` (nil: no pings, status lines only) sending through `notifier`.
    public init(notifier: SystemdNotifier, settings: WatchdogSettings?, statusInterval: Double = 5,
                logger: Logger = Logger(label: "toolrouter")) {
        self.notifier = notifier
        self.settings = settings
        self.statusInterval = max(0.05, statusInterval)
        self.logger = logger
    }

    /// Judges health by `probe` from now on (before this, every tick is healthy: the daemon is starting).
    public func watch(_ probe: WorkerProbe) {
        condition.lock()
        self.probe = probe
        condition.unlock()
    }

    /// The STATUS= text, re-read every `statusInterval` and sent when it changed.
    public func reportStatus(_ text: @escaping @Sendable () -> String) {
        condition.lock()
        statusText = text
        condition.unlock()
    }

    /// The current status text, recorded as sent (for messages that carry it, like READY=1).
    public func currentStatus() -> String? {
        condition.lock(); defer { condition.unlock() }
        guard let statusText else { return nil }
        let text = statusText()
        lastStatus = text
        return text
    }

    /// WATCHDOG=1 messages sent so far.
    public var pingCount: Int { condition.lock(); defer { condition.unlock() }; return pings }

    /// Ticks at which a ping was withheld because the worker made no progress.
    public var withheldCount: Int { condition.lock(); defer { condition.unlock() }; return withheld }

    /// Starts the background thread (once); nothing when notifications are disabled.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard notifier.isEnabled, !started, !stopped else { return }
        started = true
        let thread = Thread { [self] in self.loop() }
        thread.name = "toolrouter-watchdog"
        thread.start()
    }

    /// Stops the thread (no more pings or status lines); returns at once.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The background thread: sleeps until the next thing is due, then does it. All timing decisions are
    /// in `step(now:)`, so tests drive the same code with times of their own instead of sleeping.
    private func loop() {
        var wake = MonotonicClock.now()
        while true {
            condition.lock()
            while !stopped, MonotonicClock.now() < wake {
                _ = condition.wait(until: Date(timeIntervalSinceNow: min(wake - MonotonicClock.now(), 3600)))
            }
            if stopped { condition.unlock(); return }
            condition.unlock()
            wake = step(now: MonotonicClock.now())
        }
    }

    /// Does what is due at `now` — a WATCHDOG=1 if the worker is healthy, a STATUS= line if the text
    /// changed — and returns the time the next thing is due. Called by the background thread (or, with
    /// chosen times, by a test); never by two callers at once.
    func step(now: Double) -> Double {
        if schedule == nil { schedule = (ping: now, status: now) }
        guard var due = schedule else { return now }
        condition.lock()
        let probe = self.probe
        condition.unlock()
        var lines: [String] = []
        if let settings, now >= due.ping {
            let healthy = tick(probe)
            due.ping = now + settings.pingInterval / (healthy ? 1 : 4)
            if healthy { lines.append("WATCHDOG=1") }
        }
        if now >= due.status {
            due.status = now + statusInterval
            lines += changedStatus()
        }
        schedule = due
        if !lines.isEmpty { send(lines) }
        return min(settings == nil ? .infinity : due.ping, due.status)
    }

    private func send(_ lines: [String]) {
        do throws(SystemdNotifyError) {
            try notifier.send(lines)
            condition.lock()
            if lines.contains("WATCHDOG=1") { pings += 1 }
            sendFailed = false
            condition.unlock()
        } catch {
            condition.lock()
            let first = !sendFailed
            sendFailed = true
            condition.unlock()
            if first { logger.warning("systemd notification failed", metadata: ["error": "\(error)"]) }
        }
    }

    /// One watchdog tick: whether to ping, logging when pings stop and resume.
    private func tick(_ probe: WorkerProbe?) -> Bool {
        guard let probe else { return true }
        let healthy = check.isHealthy(busy: probe.isBusy(), progress: probe.progress())
        condition.lock()
        let firstWithheld = !healthy && consecutiveWithheld == 0
        let recovering = healthy && consecutiveWithheld > 0
        if healthy { consecutiveWithheld = 0 } else { consecutiveWithheld += 1; withheld += 1 }
        condition.unlock()
        if firstWithheld {
            logger.error("watchdog: the inference worker made no progress since the last check; withholding pings",
                         metadata: ["interval_s": "\(settings.map { String(format: "%.1f", $0.pingInterval) } ?? "-")"])
        } else if recovering {
            logger.notice("watchdog: the inference worker is making progress again; pings resume")
        }
        return healthy
    }

    /// A STATUS= line when the status text differs from the one last sent.
    private func changedStatus() -> [String] {
        condition.lock()
        defer { condition.unlock() }
        guard let statusText else { return [] }
        let text = statusText()
        guard text != lastStatus else { return [] }
        lastStatus = text
        return SystemdNotifier.statusLine(text)
    }
}
