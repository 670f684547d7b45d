// `toolrouter synth`: training rows from a catalogue and a small examples file (the Synthesis
// library does the work; `toolrouter train` calls the same library).

import ArgumentParser
import Foundation
import JSON
import Synthesis
import ToolCalls

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate training rows for a catalogue from a few examples (deterministic for a seed).",
        discussion: """
        --examples is JSONL: {"prompt": TEXT, "target": {"tool": NAME, "arguments": {...}}} or
        {"prompt": TEXT, "target": {"tool": "no_tool", "reason": TEXT}}. Errors name the line and JSON pointer;
        warnings (values not found in their prompt, tools without examples, few no_tool rows) go to stderr.
        """)

    @Option(help: "The tool catalogue (FILE.tools.json).")
    var catalogue: String

    @Option(help: "The examples file (JSONL).")
    var examples: String

    @Option(help: "How many rows to generate.")
    var rows: Int = 3000

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(name: .customLong("no-tool-fraction"), help: "Share of no_tool rows (0.15-0.2 advised).")
    var noToolFraction: Double = 0.18

    @Option(help: "Where to write the rows (JSONL).")
    var out: String

    @Option(help: "Where to write the run's report (JSON).")
    var report: String?

    func validate() throws {
        guard rows > 0 else { throw ValidationError("--rows must be positive") }
        guard (0...1).contains(noToolFraction) else { throw ValidationError("--no-tool-fraction must be between 0 and 1") }
    }

    func run() throws {
        let tools: ToolCatalogue
        do { tools = try ToolCatalogue(contentsOf: catalogue) } catch { throw CLIError("\(catalogue): \(error)") }
        let set: ExampleSet
        do { set = try ExampleSet.load(path: examples, catalogue: tools) } catch { throw CLIError(error.description) }
        for warning in set.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let start = Date()
        let result = Synthesizer(catalogue: tools, examples: set, options: SynthesisOptions(rows: rows, seed: seed, noToolFraction: noToolFraction)).run()
        let seconds = Date().timeIntervalSince(start)
        do {
            try Data(result.jsonl.utf8).write(to: URL(fileURLWithPath: out))
            if let report { try Data((JSONWriter.compact(result.report.json) + "\n").utf8).write(to: URL(fileURLWithPath: report)) }
        } catch { throw CLIError("cannot write output: \(error.localizedDescription)") }
        if result.report.shortfall > 0 {
            FileHandle.standardError.write(Data("warning: \(result.report.shortfall) planned row(s) could not be made (see --report)\n".utf8))
        }
        let dropped = result.report.dropped.reduce(0) { $0 + $1.rows }
        if dropped > 0 { FileHandle.standardError.write(Data("note: \(dropped) candidate row(s) refused by the validator and replaced\n".utf8)) }
        let counts = result.report.rowsPerTool.map { "\($0.tool) \($0.rows)" }.joined(separator: ", ")
        let rate = seconds > 0 ? Int(Double(result.rows.count) / seconds) : 0
        FileHandle.standardError.write(Data("\(out): \(result.rows.count) rows in \(String(format: "%.2f", seconds)) s (\(rate) rows/s): \(counts)\n".utf8))
    }
}
