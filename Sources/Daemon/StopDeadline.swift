// The stop deadline as the agent service sees it: calls waiting on a handler when a stop's deadline
// passes are answered `shutting_down` then, instead of waiting out the handler timeout (which may be
// longer than systemd's TimeoutStopSec), and calls dispatched during a stop get at most the time left.

import Foundation
import Inference
import Synchronization

/// Fires once, at the stop deadline; calls waiting on a handler register to be answered then.
public final class StopDeadline: Sendable {
    private struct State {
        var deadline: Double?
        var fired = false
        var nextToken = 0
        var waiters: [Int: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())
    private let clock: @Sendable () -> Double

    /// A deadline not yet set, measured on `clock` (monotonic seconds).
    public init(clock: @escaping @Sendable () -> Double = { MonotonicClock.now() }) {
        self.clock = clock
    }

    /// True once `fire()` ran.
    public var hasFired: Bool { state.withLock { $0.fired } }

    /// Seconds left until the stop deadline (nil when no stop began; 0 once it passed).
    public var remaining: Double? {
        state.withLock { current in
            if current.fired { return 0 }
            return current.deadline.map { [clock] in max(0, $0 - clock()) }
        }
    }

    /// Records the stop deadline, `seconds` from now, and fires at it (on a background queue).
    public func begin(seconds: Double) {
        state.withLock { $0.deadline = clock() + seconds }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds)) { [self] in fire() }
    }

    /// Runs every registered waiter once; later registrations run at once.
    public func fire() {
        let waiters = state.withLock { current -> [@Sendable () -> Void] in
            if current.fired { return [] }
            current.fired = true
            defer { current.waiters = [:] }
            return Array(current.waiters.values)
        }
        for waiter in waiters { waiter() }
    }

    /// Registers `action` to run at the deadline (at once if it passed); returns a token for `cancel`.
    @discardableResult
    public func onFire(_ action: @escaping @Sendable () -> Void) -> Int? {
        let token = state.withLock { current -> Int? in
            if current.fired { return nil }
            current.nextToken += 1
            current.waiters[current.nextToken] = action
            return current.nextToken
        }
        if token == nil { action() }
        return token
    }

    /// Forgets a waiter registered with `onFire`.
    public func cancel(_ token: Int?) {
        guard let token else { return }
        _ = state.withLock { $0.waiters.removeValue(forKey: token) }
    }
}

/// Resumes a continuation at most once (a handler's answer and the stop deadline may race).
final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>
    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = Mutex(continuation) }
    func resume(_ value: T) {
        let taken = continuation.withLock { current -> CheckedContinuation<T, Never>? in
            defer { current = nil }
            return current
        }
        taken?.resume(returning: value)
    }
}
