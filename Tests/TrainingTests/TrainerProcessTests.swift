// The trainer process: events read as they come, stderr kept and quoted on failure, signals forwarded —
// against stand-in trainers (plain python3, no torch), and one real smoke run when the venv exists.

import Foundation
import GGUF
import JSON
import TestSupport
import Testing
import Tokenizer
import ToolCalls
@testable import Training

/// A folder with a stand-in trainer.py.
func fakeTrainer(_ name: String, _ script: String) throws -> String {
    let dir = try TrainerEnvironmentTests.scratch("fake-\(name)")
    try script.write(toFile: dir + "/trainer.py", atomically: true, encoding: .utf8)
    _ = FileManager.default.createFile(atPath: dir + "/requirements.txt", contents: Data())
    return dir
}

@Suite("Trainer process", .serialized)
struct TrainerProcessTests {
    static let settings = TrainerSettings(rowsFile: "rows.jsonl", model: "m.gguf", out: "out")

    @Test("events arrive in order; losses and checkpoints are collected; non-event lines are passed on as .other")
    func events() throws {
        let dir = try fakeTrainer("events", """
        import json, sys
        assert "--rows" in sys.argv and "--model" in sys.argv
        print("library chatter")
        for e in [{"event": "start", "steps": 2}, {"event": "step", "step": 1, "steps": 2, "epoch": 0.5, "loss": 2.0, "elapsed_s": 1},
                  {"event": "step", "step": 2, "steps": 2, "epoch": 1.0, "loss": 1.0, "elapsed_s": 2},
                  {"event": "checkpoint", "epoch": 1.0, "step": 2, "mean_loss": 1.5}, {"event": "done", "train_seconds": 2}]:
            print(json.dumps(e))
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var seen: [TrainerEvent] = []
        let result = try TrainerProcess.run(python: "python3", trainerDir: dir, settings: Self.settings, logPath: dir + "/log") { seen.append($0) }
        #expect(result.status == 0 && result.checkpoints == 1 && result.losses == [2, 1] && result.stoppedBy == nil)
        #expect(result.start?["steps"]?.intValue == 2 && result.done?["train_seconds"]?.intValue == 2)
        #expect(seen.first == .other("library chatter") && seen.count == 6)
    }

    @Test("a failing trainer's error quotes the end of its stderr and names the log")
    func failure() throws {
        let dir = try fakeTrainer("fails", """
        import sys
        for i in range(30): print(f"line {i}", file=sys.stderr)
        print("RuntimeError: out of memory", file=sys.stderr)
        sys.exit(3)
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try TrainerProcess.run(python: "python3", trainerDir: dir, settings: Self.settings, logPath: dir + "/log") { _ in }
            Issue.record("a failing trainer was taken as a success")
        } catch {
            #expect(error.description.contains("exit 3") && error.description.contains("RuntimeError: out of memory"))
            #expect(error.description.contains("line 29") && !error.description.contains("line 10\n"))
            #expect(error.description.contains(dir + "/log"))
        }
    }

    @Test("SIGTERM to toolrouter reaches the trainer, which stops cleanly; the run reports the signal")
    func signalForwarded() throws {
        let dir = try fakeTrainer("signal", """
        import json, signal, sys
        def stop(number, frame):
            print(json.dumps({"event": "stopped", "signal": signal.Signals(number).name, "step": 1}), flush=True)
            sys.exit(143)
        signal.signal(signal.SIGTERM, stop)
        print(json.dumps({"event": "start", "steps": 5}), flush=True)
        while True:
            signal.pause()
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try TrainerProcess.run(python: "python3", trainerDir: dir, settings: Self.settings, logPath: dir + "/log") { event in
            if case .start = event { kill(getpid(), SIGTERM) }   // as a service manager would stop `toolrouter train`
        }
        #expect(result.stoppedBy == "SIGTERM" && result.status == 143)
    }

    /// The venv that `toolrouter train` creates, when it exists and is current.
    static var readyVenv: TrainerVenv? {
        let venv = TrainerVenv(directory: nil, requirements: TestPaths.packageRoot.appendingPathComponent("training/requirements.txt").path)
        guard let hash = try? venv.requirementsHash(), venv.state(requirementsHash: hash) == .ready else { return nil }
        return venv
    }

    /// The GGUF at `path` with only its first `blocks` transformer blocks (metadata and every other tensor as they are).
    static func truncatedModel(_ path: String, blocks: Int, to out: String) throws {
        let file = try GGUFFile(path: path)
        var writer = GGUFWriter()
        for key in file.metadataKeys {
            guard var value = file[key] else { continue }
            if key.hasSuffix(".block_count") { value = .uint32(UInt32(blocks)) }
            writer.addMetadata(key, value)
        }
        for tensor in file.tensors {
            let parts = tensor.name.split(separator: ".")
            if parts.first == "blk", parts.count > 1, let index = Int(parts[1]), index >= blocks { continue }
            writer.addTensor(name: tensor.name, dims: tensor.dims, type: tensor.type, data: Array(file.data(of: tensor)))
        }
        try Data(writer.serialize()).write(to: URL(fileURLWithPath: out))
    }

    @Test("smoke: a few steps of real training on a handful of rows lower the loss and leave a checkpoint",
          .enabled(if: readyVenv != nil, "needs the trainer venv (toolrouter train creates it; scripts/test --with-trainer)"))
    func smoke() throws {
        let venv = try #require(Self.readyVenv)
        let model = try TestPaths.requireModel()
        let file = try GGUFFile(path: model)
        let catalogue = try ToolCatalogue(contentsOf: DecisionWeightsTests.catalogue)
        let renderer = try RowRenderer(catalogue: catalogue, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
        let lines = [
            #"{"prompt":"Where is my order ORD-55821?","target":{"tool":"track_order","arguments":{"order_id":"ORD-55821"}}}"#,
            #"{"prompt":"track ORD-1234 please","target":{"tool":"track_order","arguments":{"order_id":"ORD-1234"}}}"#,
            #"{"prompt":"Refund ORD-7771, it broke","target":{"tool":"request_refund","arguments":{"order_id":"ORD-7771","reason":"it broke"}}}"#,
            #"{"prompt":"hello!","target":{"tool":"no_tool","reason":"small talk"}}"#,
        ]
        let dir = try TrainerEnvironmentTests.scratch("smoke")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rows = try lines.map { JSONWriter.compact(try renderer.render(try TrainingExample(line: $0, catalogue: catalogue), decisionWeight: 5).trainerJSON) }
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/rows.jsonl", atomically: true, encoding: .utf8)
        // The model cut to two blocks: transformers dequantises the GGUF in Python, and all 30 blocks took most
        // of the test's time; two keep the real tokenizer, embeddings, tensor types and layout.
        try Self.truncatedModel(model, blocks: 2, to: dir + "/model-2-blocks.gguf")
        var settings = TrainerSettings(rowsFile: dir + "/rows.jsonl", model: dir + "/model-2-blocks.gguf", out: dir + "/adapter")
        settings.batch = 4
        settings.epochs = 6
        settings.lr = 1e-2
        settings.warmup = 1
        settings.rank = 8
        settings.alpha = 16
        let trainerDir = TestPaths.packageRoot.appendingPathComponent("training").path
        let result = try TrainerProcess.run(python: venv.python, trainerDir: trainerDir, settings: settings, logPath: dir + "/log") { _ in }
        #expect(result.losses.count == 6 && result.checkpoints == 6)
        let first = try #require(result.losses.first), last = try #require(result.losses.last)
        #expect(last < first * 0.5, "losses \(result.losses)")
        #expect(result.start?["check"]?["used"]?.stringValue == "shared")
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/adapter/" + file))
        }
    }
}
