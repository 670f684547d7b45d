// The trainer's progress: its JSON event lines, parsed, and shown as a bar with an ETA on a terminal or as
// plain lines in a log.

import Foundation
import JSON

/// One line of the trainer's stdout.
public enum TrainerEvent: Sendable, Equatable {
    /// Set-up finished: the whole object (rows, steps, hyper-parameters the trainer settled on).
    case start(JSONValue)
    /// One optimiser step done.
    case step(step: Int, steps: Int, epoch: Double, loss: Double, elapsedSeconds: Double)
    /// The adapter was written after an epoch.
    case checkpoint(epoch: Double, step: Int, meanLoss: Double)
    /// Training finished: the whole object (losses, times).
    case done(JSONValue)
    /// A signal stopped the run after `step` steps.
    case stopped(signal: String, step: Int)
    /// Not an event this version knows (kept for the log, never fatal).
    case other(String)

    /// Parses one line; anything that is not a known event object is `.other`.
    public init(line: String) {
        guard let value = try? JSONParser.parse(line), let name = value["event"]?.stringValue else {
            self = .other(line)
            return
        }
        switch name {
        case "start":
            self = .start(value)
        case "step":
            guard let step = value["step"]?.intValue, let steps = value["steps"]?.intValue, let loss = value["loss"]?.doubleValue,
                  let elapsed = value["elapsed_s"]?.doubleValue else { self = .other(line); return }
            self = .step(step: step, steps: steps, epoch: value["epoch"]?.doubleValue ?? 0, loss: loss, elapsedSeconds: elapsed)
        case "checkpoint":
            guard let step = value["step"]?.intValue else { self = .other(line); return }
            self = .checkpoint(epoch: value["epoch"]?.doubleValue ?? 0, step: step, meanLoss: value["mean_loss"]?.doubleValue ?? .nan)
        case "done":
            self = .done(value)
        case "stopped":
            self = .stopped(signal: value["signal"]?.stringValue ?? "?", step: value["step"]?.intValue ?? 0)
        default:
            self = .other(line)
        }
    }
}

/// Estimates the time left from the steps done so far.
public struct ProgressMeter: Sendable {
    /// Recent (step, elapsed) points; the rate comes from the oldest to the newest, so a slow first step
    /// (allocations, warm-up) and a busy machine's swings fade out.
    private var points: [(step: Int, elapsed: Double)] = []
    /// How many points the rate is taken over.
    public let window: Int

    public init(window: Int = 20) { self.window = window }

    /// Records a step.
    public mutating func record(step: Int, elapsedSeconds: Double) {
        points.append((step, elapsedSeconds))
        if points.count > window + 1 { points.removeFirst(points.count - window - 1) }
    }

    /// Seconds a step takes lately (nil before the first step).
    public var secondsPerStep: Double? {
        guard let last = points.last else { return nil }
        guard points.count > 1, let first = points.first, last.step > first.step else {
            return last.step > 0 ? last.elapsed / Double(last.step) : nil
        }
        return (last.elapsed - first.elapsed) / Double(last.step - first.step)
    }

    /// Seconds left until `steps`.
    public func secondsLeft(steps: Int) -> Double? {
        guard let rate = secondsPerStep, let last = points.last else { return nil }
        return max(0, Double(steps - last.step) * rate)
    }
}

/// Formats progress for a terminal (one bar redrawn in place) or a log (plain lines).
public enum ProgressFormat {
    /// `1h02m`, `4m05s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60) }
        if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return "\(total)s"
    }

    /// `[########------------]  12/125  epoch 0.10  loss 0.4521  4.9 s/step  9m13s left`
    public static func bar(step: Int, steps: Int, epoch: Double, loss: Double, meter: ProgressMeter, width: Int = 24) -> String {
        let fraction = steps > 0 ? min(1, Double(step) / Double(steps)) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " + line(step: step, steps: steps, epoch: epoch, loss: loss, meter: meter)
    }

    /// `step 12/125  epoch 0.10  loss 0.4521  4.9 s/step  9m13s left`
    public static func line(step: Int, steps: Int, epoch: Double, loss: Double, meter: ProgressMeter) -> String {
        var text = "step \(step)/\(steps)  epoch \(String(format: "%.2f", epoch))  loss \(String(format: "%.4f", loss))"
        if let rate = meter.secondsPerStep { text += String(format: "  %.1f s/step", rate) }
        if let left = meter.secondsLeft(steps: steps) { text += "  \(duration(left)) left" }
        return text
    }
}

/// Shows the trainer's events on stderr: a bar redrawn in place on a terminal, plain lines otherwise.
public struct ProgressDisplay {
    /// Whether stderr is a terminal.
    public let isTerminal: Bool
    private var meter = ProgressMeter()
    private var barShown = false
    private let write: (String) -> Void

    /// A display writing through `write` (default: stderr), as a bar when `isTerminal`.
    public init(isTerminal: Bool = isatty(2) == 1, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Shows one event.
    public mutating func show(_ event: TrainerEvent) {
        switch event {
        case .start(let info):
            let steps = info["steps"]?.intValue ?? 0
            let prefix = info["shared_prefix_tokens"]?.intValue ?? 0
            let setup = info["setup_seconds"]?.doubleValue.map { ", set-up \(ProgressFormat.duration($0))" } ?? ""
            note("training: \(info["rows"]?.intValue ?? 0) rows, \(steps) steps of \(info["batch"]?.intValue ?? 0), "
                 + "shared prefix \(prefix) tokens, \(info["threads"]?.intValue ?? 0) threads\(setup)")
        case .step(let step, let steps, let epoch, let loss, let elapsed):
            meter.record(step: step, elapsedSeconds: elapsed)
            if isTerminal {
                write("\r\u{1B}[2K" + ProgressFormat.bar(step: step, steps: steps, epoch: epoch, loss: loss, meter: meter))
                barShown = true
            } else {
                write(ProgressFormat.line(step: step, steps: steps, epoch: epoch, loss: loss, meter: meter) + "\n")
            }
        case .checkpoint(let epoch, let step, let meanLoss):
            note("checkpoint after epoch \(String(format: "%.2f", epoch)) (step \(step), mean loss \(String(format: "%.4f", meanLoss)))")
        case .done(let info):
            note("training done in \(ProgressFormat.duration(info["train_seconds"]?.doubleValue ?? 0))")
        case .stopped(let signal, let step):
            note("trainer stopped by \(signal) after step \(step)")
        case .other:
            break
        }
    }

    /// Ends the bar's line so later output starts on a fresh one.
    public mutating func finish() {
        if barShown { write("\n") }
        barShown = false
    }

    private mutating func note(_ text: String) {
        finish()
        write(text + "\n")
    }
}
