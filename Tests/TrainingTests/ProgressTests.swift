// The trainer's event lines, the ETA, and the two display modes.

import JSON
import Testing
@testable import Training

@Suite("Training progress")
struct ProgressTests {
    @Test("each event kind parses; unknown or malformed lines are .other")
    func parsing() throws {
        #expect(TrainerEvent(line: #"{"event":"step","step":3,"steps":10,"epoch":0.3,"loss":0.5,"lr":0.001,"elapsed_s":12.5}"#)
                == .step(step: 3, steps: 10, epoch: 0.3, loss: 0.5, elapsedSeconds: 12.5))
        #expect(TrainerEvent(line: #"{"event":"checkpoint","epoch":1.0,"step":10,"path":"o","mean_loss":0.25}"#)
                == .checkpoint(epoch: 1, step: 10, meanLoss: 0.25))
        #expect(TrainerEvent(line: #"{"event":"stopped","signal":"SIGTERM","step":4}"#) == .stopped(signal: "SIGTERM", step: 4))
        guard case .start(let info) = TrainerEvent(line: #"{"event":"start","rows":8,"steps":6}"#) else { Issue.record("no start"); return }
        #expect(info["steps"]?.intValue == 6)
        guard case .done = TrainerEvent(line: #"{"event":"done","steps":6}"#) else { Issue.record("no done"); return }
        for line in ["Loading weights: 100%", #"{"event":"step","step":"x"}"#, #"{"event":"later"}"#, "[1,2]", ""] {
            #expect(TrainerEvent(line: line) == .other(line))
        }
    }

    @Test("ETA from the recent rate: a slow first step fades out of the window")
    func eta() {
        var meter = ProgressMeter(window: 4)
        #expect(meter.secondsPerStep == nil && meter.secondsLeft(steps: 10) == nil)
        meter.record(step: 1, elapsedSeconds: 30)   // warm-up
        #expect(meter.secondsPerStep == 30)
        #expect(meter.secondsLeft(steps: 10) == 270)
        for step in 2...6 { meter.record(step: step, elapsedSeconds: 30 + Double(step - 1) * 5) }
        #expect(meter.secondsPerStep == 5)
        #expect(meter.secondsLeft(steps: 10) == 20)
        #expect(meter.secondsLeft(steps: 6) == 0)
    }

    @Test("durations read as h/m/s")
    func durations() {
        #expect(ProgressFormat.duration(4) == "4s")
        #expect(ProgressFormat.duration(245) == "4m05s")
        #expect(ProgressFormat.duration(3720) == "1h02m")
        #expect(ProgressFormat.duration(.nan) == "?")
    }

    @Test("a terminal gets one bar redrawn in place; a log gets a plain line per step")
    func modes() {
        let step = TrainerEvent.step(step: 5, steps: 10, epoch: 0.5, loss: 0.1234, elapsedSeconds: 50)
        var terminal: [String] = []
        var bar = ProgressDisplay(isTerminal: true) { terminal.append($0) }
        bar.show(step)
        bar.show(.checkpoint(epoch: 1, step: 10, meanLoss: 0.1))
        #expect(terminal.first?.hasPrefix("\r\u{1B}[2K[############------------] step 5/10") == true, "\(terminal)")
        #expect(terminal.first?.contains("50s left") == true)
        #expect(terminal.dropFirst().first == "\n")   // the bar's line ends before the note
        #expect(terminal.last?.hasPrefix("checkpoint after epoch 1.00") == true)

        var log: [String] = []
        var plain = ProgressDisplay(isTerminal: false) { log.append($0) }
        plain.show(step)
        plain.show(.other("noise"))
        plain.finish()
        #expect(log == ["step 5/10  epoch 0.50  loss 0.1234  10.0 s/step  50s left\n"])
    }
}
