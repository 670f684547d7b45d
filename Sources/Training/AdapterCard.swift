// The adapter's card (README.md) and train_info.json: what it was trained on, how, how long, on what
// machine, and how well it routes (the seeds' four numbers) on the held-out slice and the gold set.

import Foundation
import JSON
import ToolCalls

/// Everything the card reports about one `toolrouter train` run.
public struct TrainingSummary: Sendable {
    /// The catalogue's path as given, and its tool names.
    public var cataloguePath: String
    public var tools: [String]
    /// The examples file (nil when the rows were given directly).
    public var examplesPath: String?
    /// The training rows: how many per target tool (`no_tool` included).
    public var rowsPerTool: [String: Int]
    /// SHA-256 of the training rows in the trainer's input order (`{prompt,target}` JSONL, canonical).
    public var dataHash: String
    /// The generator's report (sources of rows etc.), as it gives it; nil when there is none.
    public var generatorReport: JSONValue?
    /// The seed of data generation, hold-out split and training.
    public var seed: Int
    /// The decision weight W of the loss.
    public var decisionWeight: Double
    /// The trainer's start and done events (hyper-parameters as it settled them; losses and times).
    public var trainerStart: JSONValue?
    public var trainerDone: JSONValue?
    /// Epochs checkpointed; whether the run finished.
    public var checkpoints: Int
    public var finished: Bool
    /// The base model's file name.
    public var modelFile: String
    /// The adapter this run continued, if any.
    public var initAdapter: String?
    /// Wall time of the whole command, in seconds.
    public var wallSeconds: Double
    /// The machine: CPU model and logical cores.
    public var machine: String
    /// Evaluations: label (e.g. "held-out slice"), the rows' source, and the report.
    public var evaluations: [(label: String, source: String, report: EvalReport)]
    /// The teacher's part, when one was asked (`--teacher`): endpoint, model, the distillation counts
    /// and `joined`, the rows that joined the examples.
    public var teacher: JSONValue?
    /// Extra top-level keys for train_info.json (e.g. the catalogue binding).
    public var extraInfo: [(key: String, value: JSONValue)] = []

    /// A summary with no evaluations yet.
    public init(cataloguePath: String, tools: [String], examplesPath: String?, rowsPerTool: [String: Int], dataHash: String,
                generatorReport: JSONValue?, seed: Int, decisionWeight: Double, trainerStart: JSONValue?, trainerDone: JSONValue?,
                checkpoints: Int, finished: Bool, modelFile: String, initAdapter: String?, wallSeconds: Double, machine: String) {
        self.cataloguePath = cataloguePath
        self.tools = tools
        self.examplesPath = examplesPath
        self.rowsPerTool = rowsPerTool
        self.dataHash = dataHash
        self.generatorReport = generatorReport
        self.seed = seed
        self.decisionWeight = decisionWeight
        self.trainerStart = trainerStart
        self.trainerDone = trainerDone
        self.checkpoints = checkpoints
        self.finished = finished
        self.modelFile = modelFile
        self.initAdapter = initAdapter
        self.wallSeconds = wallSeconds
        self.machine = machine
        self.evaluations = []
    }

    /// All training rows.
    public var rowCount: Int { rowsPerTool.values.reduce(0, +) }
}

/// Writes the card and train_info.json.
public enum AdapterCard {
    /// The four numbers (and their counts) of one evaluation, as JSON.
    public static func json(_ report: EvalReport) -> JSONValue {
        func rate(_ value: Double) -> JSONValue { .number(JSONNumber(literal: String(format: "%.4f", value))) }
        let overAll = report.rows == 0 ? 0 : Double(report.falseToolCalls) / Double(report.rows)
        return .object([
            ("rows", .number(JSONNumber(report.rows))), ("valid_rate", rate(report.validRate)), ("tool_accuracy", rate(report.toolAccuracy)),
            ("argument_accuracy", rate(report.argumentAccuracy)), ("argument_rows", .number(JSONNumber(report.argumentRows))),
            ("false_tool_calls", .number(JSONNumber(report.falseToolCalls))), ("no_tool_rows", .number(JSONNumber(report.noToolRows))),
            ("false_tool_call_rate", rate(report.falseToolCallRate)), ("false_tool_calls_over_all_rows", rate(overAll)),
            ("exact_accuracy", rate(report.exactAccuracy)),
            ("latency_p50_ms", rate(report.latencyP50)),
        ])
    }

    /// train_info.json's content.
    public static func trainInfo(_ s: TrainingSummary) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("catalogue_file", .string(s.cataloguePath)),
            ("examples_file", s.examplesPath.map(JSONValue.string) ?? .null),
            ("model", .string(s.modelFile)),
            ("seed", .number(JSONNumber(s.seed))),
            ("data_sha256", .string(s.dataHash)),
            ("rows", .number(JSONNumber(s.rowCount))),
            ("rows_per_tool", .object(s.rowsPerTool.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber($0.value))) })),
            ("generator", s.generatorReport ?? .null),
            ("teacher", s.teacher ?? .null),
            ("decision_weight", .number(JSONNumber(s.decisionWeight))),
            ("init", s.initAdapter.map(JSONValue.string) ?? .null),
            ("trainer", s.trainerStart ?? .null),
            ("result", s.trainerDone ?? .null),
            ("checkpoints", .number(JSONNumber(s.checkpoints))),
            ("finished", .bool(s.finished)),
            ("wall_seconds", .number(JSONNumber(literal: String(format: "%.1f", s.wallSeconds)))),
            ("machine", .string(s.machine)),
            ("evaluations", .array(s.evaluations.map { .object([("label", .string($0.label)), ("source", .string($0.source)), ("report", json($0.report))]) })),
        ]
        members += s.extraInfo
        return .object(members)
    }

    /// The card's Markdown.
    public static func readme(_ s: TrainingSummary, adapterName: String) -> String {
        let start = s.trainerStart
        func value(_ key: String) -> String {
            guard let v = start?[key] else { return "?" }
            if let text = v.stringValue { return text }
            if let items = v.arrayValue { return items.compactMap(\.stringValue).joined(separator: ", ") }
            return JSONWriter.compact(v)
        }
        let perTool = s.rowsPerTool.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let noTool = s.rowsPerTool[ToolCatalogue.noToolName] ?? 0
        let share = s.rowCount == 0 ? 0 : Double(noTool) / Double(s.rowCount) * 100
        var lines = [
            "# LoRA adapter: `\(adapterName)`",
            "",
            "PEFT LoRA for `\(s.modelFile)`, trained by `toolrouter train` to route requests for `\(s.cataloguePath)` "
                + "(\(s.tools.count) tools: \(s.tools.joined(separator: ", "))) with the daemon's own prompt."
                + (s.finished ? "" : " **The run did not finish**: this is the checkpoint of epoch \(s.checkpoints)."),
            "",
            "```sh",
            "toolrouter serve --catalogue \(adapterName)=\(s.cataloguePath) --adapter \(adapterName)=DIR ...",
            "```",
            "",
            "## Data",
            "",
            "| | |",
            "|---|---|",
            "| examples | " + (s.examplesPath.map { "`\($0)`" } ?? "none (rows given directly)") + " |",
            "| training rows | \(s.rowCount) (\(String(format: "%.0f", share))% no_tool): \(perTool) |",
        ]
        if let teacher = s.teacher {
            let joined = teacher["joined"].map { JSONWriter.compact($0) } ?? "0"
            let kept = teacher["counts"]?["kept"].map { JSONWriter.compact($0) } ?? "?"
            let received = teacher["counts"]?["received"].map { JSONWriter.compact($0) } ?? "?"
            let rejected = teacher["counts"]?["rejected"].map { JSONWriter.compact($0) } ?? "{}"
            lines.append("| teacher | `\(teacher["model"]?.stringValue ?? "?")` at `\(teacher["url"]?.stringValue ?? "?")`: "
                         + "\(joined) rows joined the examples (kept \(kept) of \(received) received; rejected \(rejected)) |")
        }
        if let report = s.generatorReport { lines += generatorRows(report) }
        lines += [
            "| seed | \(s.seed) |",
            "| data SHA-256 | `\(s.dataHash)` |",
            "",
            "## Training",
            "",
            "| | |",
            "|---|---|",
            "| LoRA | r=\(value("r")), alpha=\(value("alpha")), dropout \(value("dropout")), targets \(value("targets"))"
                + (s.initAdapter.map { "; continued from `\($0)`" } ?? "") + " |",
            "| optimiser | AdamW, lr \(value("lr")), \(value("warmup_steps")) warm-up steps then cosine, weight decay 0, grad clip 1.0 |",
            "| schedule | \(value("epochs")) epochs, batch \(value("batch")), \(value("steps")) steps; checkpoints written: \(s.checkpoints) |",
            "| loss | weighted mean over completion + end tokens; tool name, keys, numbers, booleans and JSON structure weigh "
                + "\(JSONNumber(s.decisionWeight).text)× |",
            "| shared prefix | \(value("shared_prefix_tokens")) tokens (check: \(start?["check"].map { JSONWriter.compact($0) } ?? "?")) |",
            "| precision | float32 weights, bfloat16 autocast: \(value("bf16_autocast")); torch \(value("torch")), \(value("threads")) threads |",
        ]
        if let done = s.trainerDone {
            lines.append("| loss | first step \(done["first_step_loss"].map { JSONWriter.compact($0) } ?? "?"), "
                         + "last epoch mean \(done["final_loss_last_epoch_mean"].map { JSONWriter.compact($0) } ?? "?") |")
            lines.append("| training time | \(ProgressFormat.duration(done["train_seconds"]?.doubleValue ?? 0)) |")
        }
        lines += [
            "| wall time | \(ProgressFormat.duration(s.wallSeconds)) for the whole command (rendering, set-up, training, evaluation) |",
            "| machine | \(s.machine) |",
            "",
            "## Routing quality",
            "",
        ]
        if s.evaluations.isEmpty {
            lines.append("Not evaluated.")
        } else {
            lines += [
                "`toolrouter eval`'s definitions, with the daemon's constrained decoder and this adapter. Valid calls and tool-name "
                    + "accuracy over all rows; argument match over the rows where the right tool was called; false tool calls over all rows "
                    + "(and over the no_tool rows).",
                "",
                "| rows | valid calls | tool-name accuracy | argument match | false tool calls | exact |",
                "|---|---|---|---|---|---|",
            ]
            for (label, source, r) in s.evaluations {
                let overAll = r.rows == 0 ? 0 : Double(r.falseToolCalls) / Double(r.rows)
                lines.append("| \(label): `\(source)` (\(r.rows)) | \(percent(r.validRate)) | \(percent(r.toolAccuracy)) | "
                             + "\(percent(r.argumentAccuracy)) (of \(r.argumentRows)) | \(percent(overAll)) (\(r.falseToolCalls) of "
                             + "\(r.noToolRows) no_tool rows) | \(percent(r.exactAccuracy)) |")
            }
            lines += ["", "Shipping bar: valid 100%, tool-name accuracy ≥ 90%, argument match ≥ 85%, false tool calls ≤ 5% of all rows."]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes README.md and train_info.json into `directory` (each through a temporary file and a rename).
    public static func write(_ s: TrainingSummary, to directory: String, adapterName: String) throws {
        try writeAtomically(readme(s, adapterName: adapterName), to: directory + "/README.md")
        try writeAtomically(indented(trainInfo(s)) + "\n", to: directory + "/train_info.json")
    }

    /// `model name, N logical cores` from /proc/cpuinfo (or what is known).
    public static func machineDescription() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) logical cores"
    }

    /// JSON with one member or element a line, indented by one space a level (arrays of scalars stay on one line).
    static func indented(_ value: JSONValue, depth: Int = 0) -> String {
        let pad = String(repeating: " ", count: depth + 1), close = String(repeating: " ", count: depth)
        switch value {
        case .object(let members) where !members.isEmpty:
            let body = members.map { pad + JSONWriter.quoted($0.key) + ": " + indented($0.value, depth: depth + 1) }
            return "{\n" + body.joined(separator: ",\n") + "\n" + close + "}"
        case .array(let items) where items.contains(where: { if case .object = $0 { return true }; if case .array = $0 { return true }; return false }):
            return "[\n" + items.map { pad + indented($0, depth: depth + 1) }.joined(separator: ",\n") + "\n" + close + "]"
        default:
            return JSONWriter.compact(value)
        }
    }

    private static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    /// The generator's report in a few readable rows (train_info.json keeps all of it).
    static func generatorRows(_ report: JSONValue) -> [String] {
        func int(_ v: JSONValue?) -> Int { v?.intValue ?? 0 }
        var rows: [String] = []
        if let sources = report["no_tool_by_source"]?.objectMembers {
            rows.append("| no_tool rows by source | " + sources.map { "\($0.key) \(int($0.value))" }.joined(separator: ", ") + " |")
        }
        if let presence = report["optional_presence"]?.arrayValue, !presence.isEmpty {
            let parts = presence.map { p -> String in
                let present = int(p["present"]), total = max(1, int(p["rows"]))
                return "\(p["tool"]?.stringValue ?? "?").\(p["property"]?.stringValue ?? "?") \(present * 100 / total)%"
            }
            rows.append("| optional arguments stated | " + parts.joined(separator: ", ") + " |")
        }
        if let slots = report["slots"]?.arrayValue {
            let found = slots.reduce(0) { $0 + int($1["found"]) }, implied = slots.reduce(0) { $0 + int($1["implied"]) }
            let missing = slots.flatMap { slot in (slot["not_found"]?.arrayValue ?? []).map { "line \(int(slot["line"])) \($0.stringValue ?? "")" } }
            rows.append("| slots in the examples | \(slots.count) examples: \(found) values found in their prompts (refilled), \(implied) implied by the wording (kept)"
                        + (missing.isEmpty ? "" : ", not found: " + missing.joined(separator: ", ")) + " |")
        }
        rows.append("| generation | \(int(report["duplicates_skipped"])) duplicate prompts skipped, \(int(report["shortfall"])) rows short; "
                    + "\(int(report["pool_lines_kept"])) generic no_tool lines fit the catalogue |")
        if let dropped = report["dropped"]?.objectMembers, !dropped.isEmpty {
            rows.append("| refused by the validator | " + dropped.map { "\($0.key) \(int($0.value))" }.joined(separator: ", ") + " |")
        }
        return rows
    }

    private static func writeAtomically(_ text: String, to path: String) throws {
        let tmp = path + ".tmp"
        try text.write(toFile: tmp, atomically: false, encoding: .utf8)
        guard rename(tmp, path) == 0 else { throw TrainerSetupError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}
