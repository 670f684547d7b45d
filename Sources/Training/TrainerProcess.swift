// Running the Python trainer: its stdout read line by line as progress events, its stderr kept in a log
// file (the last lines are shown when it fails), and SIGINT/SIGTERM passed on so that it stops cleanly,
// leaving the last epoch's checkpoint in the adapter directory.

import Foundation
import ProcessSpawn
import JSON
import Synchronization

/// The trainer's settings, as command-line arguments of trainer.py.
public struct TrainerSettings: Sendable, Equatable {
    public var rowsFile: String
    public var model: String
    public var out: String
    public var epochs: Double = 2
    public var lr: Double = 5e-4
    public var rank: Int = 8
    public var alpha: Int = 16
    public var targets: [String] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    public var batch: Int = 16
    public var threads: Int = 2
    public var seed: Int = 0
    public var initAdapter: String?
    public var maxSteps: Int?
    /// Warm-up steps of the learning rate (trainer.py's default, 8, when nil).
    public var warmup: Int?

    /// Settings with the defaults above.
    public init(rowsFile: String, model: String, out: String) {
        self.rowsFile = rowsFile
        self.model = model
        self.out = out
    }

    /// trainer.py's arguments.
    public var arguments: [String] {
        var args = ["--rows", rowsFile, "--model", model, "--out", out, "--epochs", "\(epochs)", "--lr", "\(lr)",
                    "--r", "\(rank)", "--alpha", "\(alpha)", "--targets", targets.joined(separator: ","),
                    "--batch", "\(batch)", "--threads", "\(threads)", "--seed", "\(seed)"]
        if let initAdapter { args += ["--init", initAdapter] }
        if let maxSteps { args += ["--max-steps", "\(maxSteps)"] }
        if let warmup { args += ["--warmup", "\(warmup)"] }
        return args
    }
}

/// How a trainer run ended.
public struct TrainerResult: Sendable {
    /// The trainer's exit code.
    public let status: Int32
    /// The start event's object (hyper-parameters as the trainer settled them), if it came.
    public let start: JSONValue?
    /// The done event's object (losses, times), if it came.
    public let done: JSONValue?
    /// Epochs checkpointed into the output directory.
    public let checkpoints: Int
    /// Every step's loss, in order.
    public let losses: [Double]
    /// The signal that stopped it, when one did.
    public let stoppedBy: String?
}

/// The trainer failed; the message holds the last lines of its stderr and the log's path.
public struct TrainerFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// One run of trainer.py.
public enum TrainerProcess {
    /// Runs `python trainer.py <settings>` from `trainerDir`, feeding events to `onEvent` as they come, with the
    /// trainer's stderr in `logPath`. While it runs, SIGINT and SIGTERM are forwarded to it (a second one kills it).
    public static func run(python: String, trainerDir: String, settings: TrainerSettings, logPath: String,
                           onEvent: (TrainerEvent) -> Void) throws(TrainerFailure) -> TrainerResult {
        let child: SpawnedChild
        do {
            child = try Spawn.start(python, ["-u", trainerDir + "/trainer.py"] + settings.arguments, captureStdout: true, stderrPath: logPath)
        } catch { throw TrainerFailure(description: "\(error)") }
        let forwarder = SignalForwarder(pid: child.pid)
        defer { forwarder.cancel() }

        var start: JSONValue?, done: JSONValue?, stopped: String?
        var checkpoints = 0
        var losses: [Double] = []
        var reader = LineReader(fd: child.stdout ?? -1)
        while let line = reader.next() {
            let event = TrainerEvent(line: line)
            switch event {
            case .start(let value): start = value
            case .done(let value): done = value
            case .step(_, _, _, let loss, _): losses.append(loss)
            case .checkpoint: checkpoints += 1
            case .stopped(let signal, _): stopped = signal
            case .other: break
            }
            onEvent(event)
        }
        if let fd = child.stdout { close(fd) }
        let status = child.wait()
        let result = TrainerResult(status: status, start: start, done: done, checkpoints: checkpoints, losses: losses,
                                   stoppedBy: stopped ?? forwarder.received)
        if status != 0 && result.stoppedBy == nil {
            throw TrainerFailure(description: "the trainer failed (exit \(status)); the last lines of its log \(logPath):\n"
                                 + tail(of: logPath, lines: 15))
        }
        return result
    }

    /// The last `lines` lines of a file, indented.
    public static func tail(of path: String, lines: Int) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        // Progress bars in the log redraw with \r; keep only each line's final state.
        let all = text.split(separator: "\n").map { $0.split(separator: "\r").last.map(String.init) ?? "" }
        return all.suffix(lines).map { "  " + $0 }.joined(separator: "\n")
    }
}

/// Reads lines from a file descriptor until end of file.
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var atEnd = false

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            if count > 0 { buffer += chunk[0..<count] } else if count == 0 || errno != EINTR { atEnd = true }
        }
    }
}

/// While alive, turns SIGINT/SIGTERM to this process into SIGTERM to the child (SIGKILL on the second one).
///
/// A plain signal handler, not a dispatch source: on Linux libdispatch reads signals through a signalfd,
/// which sees a signal only while every thread blocks it, and OpenBLAS starts threads before `main` that
/// block nothing (the serve command's signal note says more); with the disposition set to SIG_IGN the
/// kernel then dropped the signal and the trainer ran on. The handler does only async-signal-safe things:
/// atomic updates and kill(2). One forwarder at a time (a process trains one adapter).
final class SignalForwarder {
    nonisolated(unsafe) private static var child: pid_t = 0
    private static let count = Atomic<Int>(0)
    private static let first = Atomic<Int32>(0)
    private static let signals: [Int32] = [SIGINT, SIGTERM]
    private var previous: [sigaction] = []

    /// The first signal received, by name.
    var received: String? {
        switch Self.first.load(ordering: .relaxed) {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return nil
        }
    }

    init(pid: pid_t) {
        // The statics are initialised here, never first touched inside the handler.
        Self.count.store(0, ordering: .relaxed)
        Self.first.store(0, ordering: .relaxed)
        Self.child = pid
        for signalNumber in Self.signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                _ = SignalForwarder.first.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                let received = SignalForwarder.count.add(1, ordering: .relaxed).newValue
                let pid = SignalForwarder.child
                if pid > 0 { kill(pid, received == 1 ? SIGTERM : SIGKILL) }
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            var old = sigaction()
            sigaction(signalNumber, &action, &old)
            previous.append(old)
        }
    }

    /// Puts the previous dispositions back.
    func cancel() {
        for (signalNumber, old) in zip(Self.signals, previous) {
            var restore = old
            sigaction(signalNumber, &restore, nil)
        }
        previous = []
        Self.child = 0
    }
}
