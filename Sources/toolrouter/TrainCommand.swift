// `toolrouter train`: a catalogue and a few examples in, a routing adapter out. The steps after the training
// rows exist live here: hold out a slice for evaluation, render the rows with the daemon's own prompt and
// decision weights, run the torch trainer in toolrouter's venv with a progress display, evaluate the
// adapter with the daemon's pipeline, write the card.

import ArgumentParser
import Foundation
import Inference
import JSON
import Synthesis
import Teacher
import ToolCalls
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a LoRA routing adapter for a catalogue from a few examples.",
        discussion: """
        Writes DIR as a PEFT adapter directory (adapter_config.json, adapter_model.safetensors) that serve --adapter and
        eval --adapter load, with README.md (data, hyper-parameters, wall time, the four-number report) and
        train_info.json. The adapter is checkpointed into DIR after every epoch, so an interrupted run (Ctrl-C) leaves
        a usable adapter. Training runs torch in a Python venv of toolrouter's own, created on first use
        (${XDG_CACHE_HOME:-~/.cache}/toolrouter/train-venv, or --venv); it needs python3 ≥ 3.10 with venv.
        """)

    @Option(help: "The tool catalogue (FILE.tools.json).") var catalogue: String
    @Option(help: "Examples: {\"prompt\", \"target\"} JSONL rows, as in the gold sets.") var examples: String?
    @Option(help: "The adapter directory to write.") var out: String
    @Option(help: "The base model, a .gguf file (default: the model installed by scripts/setup).") var model: String?
    @Option(help: "A gold set to evaluate the adapter on as well ({\"prompt\", \"target\"} JSONL).") var gold: String?
    @Option(name: .customLong("chat-template"), help: "Chat template: chatml, llama3 or gemma (default: the one recognised from the model file; serve and eval the adapter with the same).")
    var chatTemplate: String?
    @Option(help: "Seed of data generation, the hold-out split and training.") var seed = 0
    @Option(help: "Training rows to synthesise from the examples.") var rows = 2000
    @Option(help: "Passes over the training rows.") var epochs = 2.0
    @Option(help: "Torch threads.") var threads = 2
    @Option(help: "Continue this adapter directory (its rank, alpha and targets win).") var `init`: String?
    @Option(help: "The trainer's Python venv (default: ${XDG_CACHE_HOME:-~/.cache}/toolrouter/train-venv).") var venv: String?
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine).") var lr = 5e-4
    @Option(help: "Fraction of the examples held out for the evaluation.") var holdout = 0.15
    @Option(name: .customLong("decision-weight"), help: "Loss weight of the tokens that decide a call (tool name, keys, numbers, structure).")
    var decisionWeight = 5.0
    @Option(help: "LoRA rank.") var r = 8
    @Option(help: "LoRA alpha.") var alpha = 16
    @Option(help: "Rows per optimiser step.") var batch = 16
    @Option(help: "An OpenAI-compatible teacher's API base URL (e.g. http://127.0.0.1:8089/v1): its rows join the examples.")
    var teacher: String?
    @Option(name: .customLong("teacher-model"), help: "The teacher's model name.") var teacherModel: String?
    @Option(name: .customLong("teacher-key-env"), help: "The environment variable holding the teacher's API key (default OPENAI_API_KEY).")
    var teacherKeyEnv: String?
    @Option(name: .customLong("teacher-rows"), help: "Teacher rows to add to the examples.") var teacherRows = 40
    @Option(name: .customLong("training-rows"), help: .hidden) var trainingRows: String?
    @Option(name: .customLong("max-steps"), help: .hidden) var maxSteps: Int?

    func validate() throws {
        if examples == nil && trainingRows == nil { throw ValidationError("give --examples FILE.jsonl") }
        if (teacher == nil) != (teacherModel == nil) { throw ValidationError("--teacher and --teacher-model go together") }
        if teacher != nil && (examples == nil || trainingRows != nil) { throw ValidationError("--teacher needs --examples") }
        guard teacherRows > 0 else { throw ValidationError("--teacher-rows must be positive") }
        guard (0..<1).contains(holdout) else { throw ValidationError("--holdout is a fraction in [0, 1)") }
        guard epochs > 0, threads > 0, batch > 0, r > 0, alpha > 0, lr > 0, decisionWeight > 0 else {
            throw ValidationError("--epochs, --threads, --batch, --r, --alpha, --lr and --decision-weight must be positive")
        }
    }

    func run() throws {
        let started = MonotonicClock.now()
        let tools: ToolCatalogue
        do { tools = try ToolCatalogue(contentsOf: catalogue) } catch { throw CLIError("\(catalogue): \(error)") }
        let data = try trainingData(tools)
        note("\(data.rows.count) training rows, \(data.heldOut.count) held-out rows" + (gold.map { ", gold set \($0)" } ?? ""))

        // Everything that can fail fast (model, trainer scripts, venv) before the long part.
        let modelPath = try ModelLocator.resolve(model)
        let engine = try Engine.load(modelPath, chatTemplate: chatTemplate)
        let trainerDir: String, python: String
        do {
            trainerDir = try TrainerLocator.resolve()
            let env = TrainerVenv(directory: venv, requirements: trainerDir + "/requirements.txt")
            try env.prepare(log: note)
            python = env.python
        } catch { throw CLIError("\(error)") }

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("toolrouter-train-\(getpid())").path
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch { throw CLIError("\(error.localizedDescription)") }
        let rendered = try render(data.rows, tools: tools, engine: engine, to: work + "/rows.jsonl")

        var settings = TrainerSettings(rowsFile: work + "/rows.jsonl", model: modelPath, out: out)
        settings.epochs = epochs
        settings.lr = lr
        settings.rank = r
        settings.alpha = alpha
        settings.batch = batch
        settings.threads = threads
        settings.seed = seed
        settings.initAdapter = self.`init`
        settings.maxSteps = maxSteps
        var display = ProgressDisplay()
        let result: TrainerResult
        do {
            result = try TrainerProcess.run(python: python, trainerDir: trainerDir, settings: settings, logPath: work + "/trainer.log") {
                display.show($0)
            }
        } catch {
            display.finish()
            throw CLIError("\(error)\n(the rendered rows and the log are kept in \(work))")
        }
        display.finish()

        var summary = TrainingSummary(
            cataloguePath: catalogue, tools: tools.names, examplesPath: examples, rowsPerTool: data.rowsPerTool, dataHash: rendered.hash,
            generatorReport: data.report, seed: seed, decisionWeight: decisionWeight, trainerStart: result.start, trainerDone: result.done,
            checkpoints: result.checkpoints, finished: result.stoppedBy == nil, modelFile: URL(fileURLWithPath: modelPath).lastPathComponent,
            initAdapter: self.`init`, wallSeconds: MonotonicClock.now() - started, machine: AdapterCard.machineDescription())
        summary.teacher = data.teacher
        if let signal = result.stoppedBy {
            if result.checkpoints > 0 {
                try writeCard(summary, tools: tools)
                note("stopped by \(signal); \(out) holds the adapter of the last finished epoch (\(result.checkpoints))")
            } else {
                note("stopped by \(signal) before the first epoch ended; no adapter was written")
            }
            throw ExitCode(130)
        }

        summary.evaluations = try evaluate(data.heldOut, tools: tools, engine: engine)
        summary.wallSeconds = MonotonicClock.now() - started
        try writeCard(summary, tools: tools)
        try? FileManager.default.removeItem(atPath: work)
        for (label, source, report) in summary.evaluations {
            note(String(format: "%@ (%@, %d rows): valid %.1f%%, tool name %.1f%%, arguments %.1f%%, false tool calls %.1f%% of all rows",
                        label, source, report.rows, report.validRate * 100, report.toolAccuracy * 100, report.argumentAccuracy * 100,
                        report.rows == 0 ? 0 : Double(report.falseToolCalls) / Double(report.rows) * 100))
        }
        note("wrote \(out) (adapter, README.md, train_info.json) in \(ProgressFormat.duration(summary.wallSeconds))")
    }

    /// The rows to train on, the rows held out for evaluation, and the generator's report.
    struct TrainingData {
        var rows: [TrainingExample]
        var heldOut: [GoldRow]
        var report: JSONValue?
        /// What the teacher contributed (nil without --teacher).
        var teacher: JSONValue? = nil
        var rowsPerTool: [String: Int] { rows.reduce(into: [:]) { $0[$1.call.toolName, default: 0] += 1 } }
    }

    /// The held-out slice comes from the examples (seeded, before anything is generated, so the generator never
    /// sees it); the generator turns the rest into `rows` training rows. With the hidden --training-rows the rows
    /// are taken as given, and without --examples the slice is cut from those rows.
    func trainingData(_ tools: ToolCatalogue) throws -> TrainingData {
        var random = SynthRandom(seed: UInt64(bitPattern: Int64(seed)))
        if let examples, trainingRows == nil {
            let set: ExampleSet
            do { set = try ExampleSet.load(path: examples, catalogue: tools) } catch { throw CLIError(error.description) }
            for warning in set.warnings { note("warning: \(warning)") }
            let order = random.shuffled(Array(set.examples.indices))
            let heldOut = order.prefix(Int((Double(order.count) * holdout).rounded(.up))).map { set.examples[$0] }
            let heldLines = Set(heldOut.map(\.line))
            var kept = set.filter { !heldLines.contains($0.line) }
            guard !kept.examples.isEmpty else { throw CLIError("\(examples): no examples left after the hold-out") }
            var teacherInfo: JSONValue?
            if let teacher, let teacherModel { (kept, teacherInfo) = try distil(kept, tools: tools, url: teacher, model: teacherModel) }
            let result = Synthesizer(catalogue: tools, examples: kept,
                                     options: SynthesisOptions(rows: rows, seed: UInt64(bitPattern: Int64(seed)))).run()
            let generated = result.rows.map { TrainingExample(prompt: $0.prompt, call: $0.call) }
            return TrainingData(rows: generated, heldOut: heldOut.map { goldRow(TrainingExample(prompt: $0.prompt, call: $0.call)) },
                                report: result.report.json, teacher: teacherInfo)
        }
        var exampleRows: [TrainingExample] = []
        if let examples { exampleRows = try readExamples(examples, tools: tools) }
        guard let trainingRows else { throw CLIError("give --examples FILE.jsonl") }
        var given = try readExamples(trainingRows, tools: tools)
        var heldOutSource = exampleRows
        if examples == nil {
            given = random.shuffled(given)
            heldOutSource = given
        } else {
            heldOutSource = random.shuffled(heldOutSource)
        }
        let count = Int((Double(heldOutSource.count) * holdout).rounded(.up))
        let heldOut = Array(heldOutSource.prefix(count))
        if examples == nil { given.removeFirst(count) }
        guard !given.isEmpty else { throw CLIError("\(trainingRows): no training rows left after the hold-out") }
        return TrainingData(rows: given, heldOut: heldOut.map(goldRow), report: nil)
    }

    /// The examples left after the hold-out, with the teacher's kept rows added (the held-out slice is never
    /// shown to the teacher), and the teacher's counts for the card.
    private func distil(_ set: ExampleSet, tools: ToolCatalogue, url: String, model: String) throws -> (ExampleSet, JSONValue) {
        let key: String?
        do { key = try TeacherEndpoint.apiKey(variable: teacherKeyEnv, environment: ProcessInfo.processInfo.environment) } catch {
            throw CLIError("\(error)")
        }
        let endpoint = TeacherEndpoint(baseURL: url, model: model, apiKey: key)
        do { _ = try endpoint.chatURL() } catch { throw CLIError("\(error)") }
        let session = TeacherSession(client: ChatClient(endpoint: endpoint))
        note("asking the teacher \(model) at \(url) for \(teacherRows) rows")
        let (count, seed) = (teacherRows, UInt64(bitPattern: Int64(seed)))
        let (extended, result, added) = try blocking { try await session.extend(set, catalogue: tools, count: count, seed: seed) }
        note(result.summary + "; \(added) joined the examples")
        let info: JSONValue = .object([("url", .string(url)), ("model", .string(model)), ("asked_rows", .number(JSONNumber(count))),
                                       ("joined", .number(JSONNumber(added))), ("counts", result.countsJSON)])
        return (extended, info)
    }

    private func readExamples(_ path: String, tools: ToolCatalogue) throws -> [TrainingExample] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw CLIError("\(path): \(error.localizedDescription)") }
        do { return try TrainingExample.parseLines(text, catalogue: tools, label: path) } catch { throw CLIError(error.description) }
    }

    private func goldRow(_ example: TrainingExample) -> GoldRow {
        switch example.call {
        case .tool(let name, let arguments): return GoldRow(prompt: example.prompt, tool: name, arguments: arguments)
        case .noTool: return GoldRow(prompt: example.prompt, tool: ToolCatalogue.noToolName, arguments: nil)
        }
    }

    /// Writes the trainer's input; the SHA-256 of the rows (`{prompt,target}` canonical JSONL, in order).
    private func render(_ rows: [TrainingExample], tools: ToolCatalogue, engine: Engine, to path: String) throws -> (count: Int, hash: String) {
        let renderer: RowRenderer
        do { renderer = try RowRenderer(catalogue: tools, tokenizer: engine.tokenizer, template: engine.chatTemplate) } catch {
            throw CLIError("\(error)")
        }
        var lines = "", canonical = ""
        for row in rows {
            do { lines += JSONWriter.compact(try renderer.render(row, decisionWeight: decisionWeight).trainerJSON) + "\n" } catch {
                throw CLIError("row \(JSONWriter.quoted(row.prompt)): \(error)")
            }
            canonical += JSONWriter.compact(row.json) + "\n"
        }
        do { try lines.write(toFile: path, atomically: true, encoding: .utf8) } catch { throw CLIError("\(path): \(error.localizedDescription)") }
        return (rows.count, ContentHash.sha256Hex(Array(canonical.utf8)))
    }

    /// The adapter in `out`, scored on the held-out rows and on --gold.
    private func evaluate(_ heldOut: [GoldRow], tools: ToolCatalogue, engine: Engine) throws -> [(label: String, source: String, report: EvalReport)] {
        let adapter: LoRAAdapter
        do { adapter = try LoRAAdapter.load(path: out, config: engine.model.config) } catch { throw CLIError("\(out): \(error)") }
        var sets: [(label: String, source: String, rows: [GoldRow])] = []
        if !heldOut.isEmpty { sets.append(("held-out slice", examples ?? trainingRows ?? "", heldOut)) }
        if let gold { sets.append(("gold set", gold, try EvalCommand.readGold(gold, catalogue: tools))) }
        return try sets.map { set in
            note("evaluating on the \(set.label) (\(set.rows.count) rows)")
            let (outcomes, _) = try EvalCommand.route(set.rows, catalogue: tools, label: catalogue, engine: engine, adapter: adapter)
            return (set.label, set.source, EvalReport(outcomes))
        }
    }

    /// The card and train_info.json, then the catalogue record in train_info.json (serve, eval and reload check
    /// it: an adapter belongs to the catalogue it was trained on).
    private func writeCard(_ summary: TrainingSummary, tools: ToolCatalogue) throws {
        let name = URL(fileURLWithPath: catalogue).lastPathComponent.replacingOccurrences(of: ".tools.json", with: "")
        do {
            try AdapterCard.write(summary, to: out, adapterName: name)
            try AdapterCatalogueRecord.write(CatalogueFingerprint(catalogue: tools), adapterDirectory: out)
        } catch { throw CLIError("\(out): \(error)") }
    }

    private func note(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}
