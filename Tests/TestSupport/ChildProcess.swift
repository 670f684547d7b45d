// Child processes for tests, spawned with a clean signal state.
//
// Foundation's `Process` spawns with the calling thread's signal mask, and Swift's concurrency
// threads block most signals — so a child started from a test inherits a blocked SIGTERM and
// ignores `terminate()`. These children start with an empty mask and default dispositions, the
// way systemd or a shell would start them.

import Foundation

/// A running child process; its stderr goes to a log file the test can read.
public final class ChildProcess: @unchecked Sendable {
    /// The child's pid.
    public let pid: pid_t
    /// Where its stderr (and stdout) goes.
    public let logPath: String
    private var status: Int32?

    /// Spawns `executable` with `arguments` (and the current environment plus `environment`). The
    /// descriptors in `inheritedFDs` become the child's 3, 4, … (as a service manager passes sockets).
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], inheritedFDs: [Int32] = [],
                log name: String) throws {
        logPath = NSTemporaryDirectory() + "toolrouter-test-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Through high numbers first, so a source that is itself 3 or 4 is not overwritten before it is copied.
        for (index, fd) in inheritedFDs.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, 900 + Int32(index)) }
        for index in inheritedFDs.indices {
            posix_spawn_file_actions_adddup2(&actions, 900 + Int32(index), 3 + Int32(index))
            posix_spawn_file_actions_addclose(&actions, 900 + Int32(index))
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(executable: executable, reason: String(cString: strerror(result))) }
        pid = child
    }

    deinit { _ = stop(signal: SIGKILL) }

    /// What the child wrote so far.
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// True until the child has exited (reaps it when it has).
    public var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = raw; return false }
        return true
    }

    /// Sends `signal` (unless the child already exited) and waits up to `timeout` seconds for it to
    /// exit, then kills it. Returns its exit code (128 + signal number if a signal ended it).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 30) -> Int32 {
        if isRunning {
            kill(pid, signal)
            let deadline = Date().addingTimeInterval(timeout)
            while isRunning && Date() < deadline { usleep(10_000) }
            if isRunning {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
                status = raw
            }
        }
        try? FileManager.default.removeItem(atPath: logPath)
        return Self.exitCode(status ?? 0)
    }

    /// Sends `signal` without waiting.
    public func send(_ signal: Int32) { if isRunning { kill(pid, signal) } }

    /// The child's output once `line` occurs in it `count` times, or once it exited or `timeout` seconds
    /// passed (the caller checks what it got). Polls the log file; it does not synchronise on it.
    public func waitForOutput(_ line: String, count: Int = 1, timeout: Double = 120) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var log = output
        while log.components(separatedBy: line).count - 1 < count && isRunning && Date() < deadline {
            usleep(50_000)
            log = output
        }
        return log
    }

    /// Waits up to `timeout` seconds for the child to exit by itself; its exit code, or nil.
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(10_000) }
        return status.map(Self.exitCode)
    }

    private static func exitCode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// A child could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public let executable: String
    public let reason: String
    public var description: String { "cannot start \(executable): \(reason)" }
}
