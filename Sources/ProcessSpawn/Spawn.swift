// Starting child processes (python, pip, the trainer, MCP tool servers) with a clean signal state.
//
// Foundation's `Process` passes on the caller's signal mask, and both `toolrouter train` (which forwards
// SIGINT/SIGTERM to the trainer) and `serve` (which takes its stop and reload signals on a thread of its
// own) block or ignore signals, so children are spawned the way a shell would start them: empty mask,
// default dispositions. Same pattern as Tests/TestSupport/ChildProcess.

import Foundation

/// A child process started by `Spawn.start`.
public struct SpawnedChild: Sendable {
    /// Its pid.
    public let pid: pid_t
    /// The read end of its stdout when `captureStdout` was asked for (the caller closes it).
    public let stdout: Int32?
    /// The write end of its stdin when `pipeStdin` was asked for (the caller closes it).
    public var stdin: Int32? = nil
    /// The read end of its stderr when `captureStderr` was asked for (the caller closes it).
    public var stderr: Int32? = nil

    /// Waits for the child to exit; its exit code, or 128 + the signal that ended it.
    public func wait() -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// A child could not be started.
public struct SpawnFailure: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let reason: String
    public var description: String { "cannot start \(executable): \(reason)" }
}

/// posix_spawn with a clean signal state.
public enum Spawn {
    /// Starts `executable` with `arguments`. stdin is a pipe when `pipeStdin`, else /dev/null; stdout is a pipe
    /// when `captureStdout`, our stderr when `stdoutToStderr`, else inherited; stderr is a pipe when
    /// `captureStderr`, goes to `stderrPath` (created or truncated) when given, else is inherited.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                             pipeStdin: Bool = false, captureStdout: Bool = false, stdoutToStderr: Bool = false,
                             captureStderr: Bool = false, stderrPath: String? = nil) throws(SpawnFailure) -> SpawnedChild {
        // Close-on-exec, so that children spawned meanwhile by other threads do not hold the pipes open.
        // [read, write] for each of stdin, stdout, stderr (-1 when not a pipe).
        var pipes: [[Int32]] = [[-1, -1], [-1, -1], [-1, -1]]
        func closeAll() { for pair in pipes { for fd in pair where fd >= 0 { close(fd) } } }
        for (index, wanted) in [pipeStdin, captureStdout, captureStderr].enumerated() where wanted {
            var pair: [Int32] = [-1, -1]
            guard pipe(&pair) == 0 else {
                closeAll()
                throw SpawnFailure(executable: executable, reason: String(cString: strerror(errno)))
            }
            for fd in pair { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            pipes[index] = pair
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if pipeStdin {
            posix_spawn_file_actions_adddup2(&actions, pipes[0][0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if captureStdout {
            posix_spawn_file_actions_adddup2(&actions, pipes[1][1], 1)
        } else if stdoutToStderr {
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        }
        if captureStderr {
            posix_spawn_file_actions_adddup2(&actions, pipes[2][1], 2)
        } else if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
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

        let env = environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        // The child's ends are the child's now (dup2 gave it copies without close-on-exec).
        for (index, end) in [(0, 0), (1, 1), (2, 1)] where pipes[index][end] >= 0 { close(pipes[index][end]); pipes[index][end] = -1 }
        guard result == 0 else {
            closeAll()
            throw SpawnFailure(executable: executable, reason: String(cString: strerror(result)))
        }
        var child = SpawnedChild(pid: pid, stdout: captureStdout ? pipes[1][0] : nil)
        child.stdin = pipeStdin ? pipes[0][1] : nil
        child.stderr = captureStderr ? pipes[2][0] : nil
        return child
    }

    /// Runs a short command to completion; its exit code and stdout (stderr discarded).
    public static func run(_ executable: String, _ arguments: [String]) throws(SpawnFailure) -> (status: Int32, output: String) {
        let child = try start(executable, arguments, captureStdout: true, stderrPath: "/dev/null")
        var data = [UInt8]()
        if let fd = child.stdout {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count > 0 { data += buffer[0..<count] } else if count == 0 || errno != EINTR { break }
            }
            close(fd)
        }
        return (child.wait(), String(decoding: data, as: UTF8.self))
    }
}
