// The generator: a catalogue and an examples file in, training rows out.
//
// Each tool row starts from one of that tool's example frames (see Frames.swift). Optional
// arguments are balanced first: for each optional property the row decides, with even odds,
// whether it is stated; a frame that states it but should not has its carrier cut, a frame that
// lacks it gets a carrier mined from another example of the tool. Then generic noise dresses the
// frame (Noise.swift), sometimes with a slot-free sentence from another example of the same tool
// (examples whose wording implies a value lend no sentences: the implication would move with
// them). Finally every placeholder is filled from its pool and written in its slot's surface form,
// the call is put in schema order, and the daemon's validator checks it: a refused row is counted
// and replaced by another attempt, never written.
//
// no_tool rows (a fraction of all rows, 18% by default) come from three sources: the examples' own
// no_tool rows, re-dressed; cut variants (a tool frame with a required argument's slot cut out,
// reason "missing NAME"); and the built-in generic pool, filtered against the catalogue's words.

import JSON
import ToolCalls

/// Settings of one run.
public struct SynthesisOptions: Sendable {
    /// Rows to generate.
    public var rows: Int
    /// Seed of the run's only random generator.
    public var seed: UInt64
    /// Share of no_tool rows (15–20% advised).
    public var noToolFraction: Double
    /// Probability that a row states an optional argument that can be carried or cut.
    public var optionalPresence: Double = 0.5

    /// Options with the default optional-argument presence (one half).
    public init(rows: Int, seed: UInt64, noToolFraction: Double = 0.18) {
        self.rows = rows; self.seed = seed; self.noToolFraction = noToolFraction
    }
}

/// One generated training row.
public struct SynthesisRow: Sendable, Equatable {
    /// The request text.
    public let prompt: String
    /// The call it states, arguments in schema order.
    public let call: ToolCall
    /// "tool", "no_tool:examples", "no_tool:cut" or "no_tool:pool".
    public let source: String

    /// `{"prompt": …, "target": …}`, the examples files' and gold sets' format.
    public var json: JSONValue { .object([("prompt", .string(prompt)), ("target", call.json)]) }
}

/// The rows and the report of a run.
public struct SynthesisResult: Sendable {
    /// The rows, in generation order.
    public let rows: [SynthesisRow]
    /// What the run did.
    public let report: SynthesisReport

    /// The rows as JSONL (one compact object a line, with a final newline).
    public var jsonl: String { rows.map { JSONWriter.compact($0.json) + "\n" }.joined() }
}

/// Generates training rows for a catalogue from its examples.
public struct Synthesizer: Sendable {
    let catalogue: ToolCatalogue
    let examples: ExampleSet
    let options: SynthesisOptions

    /// A generator for `catalogue` from `examples` (loaded against the same catalogue).
    public init(catalogue: ToolCatalogue, examples: ExampleSet, options: SynthesisOptions) {
        self.catalogue = catalogue; self.examples = examples; self.options = options
    }

    /// Runs the generator (deterministic for `options.seed`).
    public func run() -> SynthesisResult {
        var random = SynthRandom(seed: options.seed)
        var material = Material(catalogue: catalogue, examples: examples, random: &random)
        var report = material.baseReport
        report.seed = options.seed
        report.requestedRows = options.rows
        report.warnings = examples.warnings.map(\.description)

        let toolNames = catalogue.names.filter { !(material.frames[$0] ?? []).isEmpty }
        let hasNoToolSource = !material.ownNoTool.isEmpty || !material.cutVariants.isEmpty || !material.poolLines.isEmpty
        var noToolCount = Int((Double(options.rows) * min(max(options.noToolFraction, 0), 1)).rounded())
        if toolNames.isEmpty { noToolCount = options.rows }
        if !hasNoToolSource { noToolCount = 0 }
        var plan = [String](repeating: ToolCatalogue.noToolName, count: noToolCount)
        for i in 0..<max(0, options.rows - noToolCount) where !toolNames.isEmpty { plan.append(toolNames[i % toolNames.count]) }
        plan = random.shuffled(plan)

        var rows: [SynthesisRow] = []
        var seen: Set<String> = []
        var perTool: [String: Int] = [:], bySource: [String: Int] = [:], dropped: [String: Int] = [:]
        var presence: [String: (present: Int, rows: Int)] = [:]
        for tool in plan {
            var made: SynthesisRow?
            for _ in 0..<30 {
                guard let candidate = tool == ToolCatalogue.noToolName ? material.noToolRow(random: &random) : material.toolRow(tool, options: options, random: &random) else { continue }
                let issues = catalogue.validate(candidate.call, origin: .request(candidate.prompt))
                if let issue = issues.first {
                    let keyword = issue.schemaPointer.split(separator: "/").last.map(String.init) ?? ""
                    dropped["\(candidate.call.toolName) \(issue.instancePointer.isEmpty ? "/" : issue.instancePointer) \(keyword)", default: 0] += 1
                    continue
                }
                guard seen.insert(candidate.prompt).inserted else { report.duplicatesSkipped += 1; continue }
                made = candidate
                break
            }
            guard let row = made else { report.shortfall += 1; continue }
            rows.append(row)
            perTool[row.call.toolName, default: 0] += 1
            if row.source.hasPrefix("no_tool:") { bySource[String(row.source.dropFirst(8)), default: 0] += 1 }
            if case .tool(let name, let arguments) = row.call {
                for property in material.optionalProperties[name] ?? [] {
                    let key = name + "\u{1}" + property
                    presence[key, default: (0, 0)].rows += 1
                    if arguments[property] != nil { presence[key, default: (0, 0)].present += 1 }
                }
            }
        }
        report.rowsPerTool = (catalogue.names + [ToolCatalogue.noToolName]).map { ($0, perTool[$0] ?? 0) }
        report.noToolBySource = ["examples", "cut", "pool"].map { ($0, bySource[$0] ?? 0) }
        report.optionalPresence = catalogue.names.flatMap { tool in
            (material.optionalProperties[tool] ?? []).map { property in
                let p = presence[tool + "\u{1}" + property] ?? (0, 0)
                return SynthesisReport.Presence(tool: tool, property: property, present: p.present, rows: p.rows)
            }
        }
        report.dropped = dropped.keys.sorted().map { ($0, dropped[$0] ?? 0) }
        return SynthesisResult(rows: rows, report: report)
    }
}
