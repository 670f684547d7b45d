// `toolrouter eval`: routing quality on gold rows — valid-call rate, tool-name accuracy, argument match,
// false tool calls and latency — with or without a LoRA adapter, on the daemon's own pipeline.

import ArgumentParser
import Foundation
import Inference
import JSON
import Router
import ToolCalls

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score routing on gold rows ({\"prompt\", \"target\"} JSONL) with the daemon's pipeline.",
        discussion: """
        Metrics: valid-tool-call rate and tool-name accuracy over all rows; argument match over rows whose target is a
        tool and whose output calls that tool; false-tool-call rate over no_tool rows; latency p50/p95 of routing
        (prefix cached, as in the daemon). Arguments compare as JSON values (member order ignored, 1 == 1.0).
        """)

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).") var model: String?
    @Option(name: .customLong("chat-template"), help: ArgumentHelp(
        "Chat template: chatml, llama3 or gemma (default: the one recognised from the model file; needed when it has none, as Gemma 3 base files).",
        valueName: "name")) var chatTemplate: String?
    @Option(help: "The tool catalogue (FILE.tools.json).") var catalogue: String
    @Option(help: "Gold rows: one {\"prompt\", \"target\"} JSON object a line.") var gold: String
    @Option(help: "A LoRA adapter (PEFT directory or GGUF file) to route with.") var adapter: String?
    @Flag(name: .customLong("no-adapter"), help: "Route with the base model (the default when --adapter is not given).") var noAdapter = false
    @Flag(name: .customLong("allow-catalogue-mismatch"),
          help: "Evaluate an adapter whose train_info.json records another catalogue than --catalogue (with a warning).")
    var allowCatalogueMismatch = false
    @Option(name: .customLong("max-tokens"), help: "Generated tokens per request.") var maxTokens = 200
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "List every row the router got wrong.") var verbose = false

    func validate() throws {
        if adapter != nil && noAdapter { throw ValidationError("give --adapter or --no-adapter, not both") }
    }

    func run() throws {
        let tools: ToolCatalogue
        do { tools = try ToolCatalogue(contentsOf: catalogue) } catch { throw CLIError("\(catalogue): \(error)") }
        let rows = try Self.readGold(gold, catalogue: tools)
        if let adapter {
            let outcome = try CatalogueBinding.check(adapterPath: adapter, catalogue: tools, cataloguePath: catalogue,
                                                     allowMismatch: allowCatalogueMismatch,
                                                     overrideHint: "pass --allow-catalogue-mismatch to evaluate it anyway")
            if let warning = CatalogueBinding.warning(outcome, override: "--allow-catalogue-mismatch") {
                FileHandle.standardError.write(Data("warning: \(warning.message): \(adapter): \(warning.detail)\n".utf8))
            }
        }
        let engine = try Engine.load(ModelLocator.resolve(model), chatTemplate: chatTemplate)
        var lora: LoRAAdapter?
        if let adapter {
            do { lora = try LoRAAdapter.load(path: adapter, config: engine.model.config) } catch { throw CLIError("\(error)") }
        }
        let (outcomes, raws) = try Self.route(rows, catalogue: tools, label: catalogue, engine: engine, adapter: lora, maxTokens: maxTokens)
        let report = EvalReport(outcomes)
        if verbose {
            for (outcome, raw) in zip(outcomes, raws) where !outcome.exactMatch {
                let expected = outcome.gold.arguments.map { JSONWriter.compact($0) } ?? ""
                FileHandle.standardError.write(Data("miss: \(outcome.gold.prompt.debugDescription)\n  want \(outcome.gold.tool) \(expected)\n  got  \(raw)\n".utf8))
            }
        }
        let adapterName = adapter ?? "none"
        if json {
            print(JSONWriter.compact(.object([
                ("catalogue", .string(catalogue)), ("adapter", .string(adapterName)), ("rows", .number(JSONNumber(report.rows))),
                ("valid_rate", number(report.validRate)), ("tool_accuracy", number(report.toolAccuracy)),
                ("argument_accuracy", number(report.argumentAccuracy)), ("argument_rows", .number(JSONNumber(report.argumentRows))),
                ("false_tool_call_rate", number(report.falseToolCallRate)), ("no_tool_rows", .number(JSONNumber(report.noToolRows))),
                ("false_tool_calls", .number(JSONNumber(report.falseToolCalls))),
                ("exact_accuracy", number(report.exactAccuracy)),
                ("latency_p50_ms", number(report.latencyP50)), ("latency_p95_ms", number(report.latencyP95)),
            ])))
            return
        }
        func percent(_ v: Double) -> String { String(format: "%5.1f%%", v * 100) }
        let toolRight = outcomes.filter(\.toolMatches).count
        print("catalogue \(catalogue) — \(report.rows) gold rows, adapter \(adapterName)")
        print("valid tool calls     \(percent(report.validRate))  (\(outcomes.filter { $0.call != nil }.count)/\(report.rows))")
        print("tool-name accuracy   \(percent(report.toolAccuracy))  (\(toolRight)/\(report.rows))")
        print("argument match       \(percent(report.argumentAccuracy))  (over \(report.argumentRows) rows with the right tool)")
        let overAll = report.rows == 0 ? 0 : Double(report.falseToolCalls) / Double(report.rows)
        print("false tool calls     \(percent(report.falseToolCallRate))  (\(report.falseToolCalls) of \(report.noToolRows) no_tool rows; "
              + "\(percent(overAll).trimmingCharacters(in: .whitespaces)) of all rows)")
        print("exact match          \(percent(report.exactAccuracy))")
        print(String(format: "latency p50 / p95    %.1f / %.1f ms", report.latencyP50, report.latencyP95))
    }

    /// Routes every row with the daemon's pipeline (prefix cached, constrained decoding); the outcomes and the
    /// raw outputs (or the error) in row order. `label` names the catalogue in errors.
    static func route(_ rows: [GoldRow], catalogue: ToolCatalogue, label: String, engine: Engine, adapter: LoRAAdapter?,
                      maxTokens: Int = 200) throws -> (outcomes: [EvalOutcome], raws: [String]) {
        let pipeline = RequestPipeline(model: engine.model, tokenizer: engine.tokenizer, template: engine.chatTemplate, maxTokens: maxTokens)
        do { try pipeline.load(name: "eval", catalogue: catalogue, adapter: adapter) } catch { throw CLIError("\(label): \(error)") }
        var outcomes: [EvalOutcome] = []
        var raws: [String] = []
        for row in rows {
            let start = MonotonicClock.now()
            do {
                let routed = try pipeline.route(RouteRequest(catalogue: "eval", input: row.prompt))
                outcomes.append(EvalOutcome(gold: row, call: routed.call, milliseconds: routed.timings.totalMs))
                raws.append(routed.raw)
            } catch {
                outcomes.append(EvalOutcome(gold: row, call: nil, milliseconds: (MonotonicClock.now() - start) * 1000))
                raws.append("error: \(error)")
            }
        }
        return (outcomes, raws)
    }

    /// The gold rows of `path`; a bad row is an error naming its line.
    static func readGold(_ path: String, catalogue: ToolCatalogue) throws -> [GoldRow] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw CLIError("\(path): \(error.localizedDescription)") }
        var rows: [GoldRow] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.allSatisfy(\.isWhitespace) {
            do { rows.append(try GoldRow(line: String(line), catalogue: catalogue)) } catch { throw CLIError("\(path):\(index + 1): \(error)") }
        }
        guard !rows.isEmpty else { throw CLIError("\(path): no gold rows") }
        return rows
    }
}

private func number(_ value: Double) -> JSONValue { .number(JSONNumber(literal: String(format: "%.4f", value))) }
