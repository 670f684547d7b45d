// Scoring a router against gold rows — the quality report of the adapter issue.
//
// A gold row is `{"prompt": TEXT, "target": {"tool": NAME, "arguments": {...}}}`; a `no_tool` target
// has no arguments (a reason, if given, is not scored). The metrics:
//   valid-tool-call rate   outputs that parse as a call and pass their tool's schema, over all rows;
//   tool-name accuracy     outputs naming the target's tool (no_tool included), over all rows;
//   argument-match         outputs whose arguments equal the target's, over rows where the target is a
//                          tool and the output is a valid call of that same tool;
//   false-tool-call rate   outputs calling a tool, over rows whose target is no_tool (the seeds' report
//                          divides the same count by all rows; `falseToolCalls` gives the count).
// Arguments are compared as JSON values: member order does not matter, 1 and 1.0 are equal.

import JSON

/// One gold row: a request and the call it should produce.
public struct GoldRow: Sendable, Equatable {
    /// The user's request.
    public var prompt: String
    /// The target tool's name, or `no_tool`.
    public var tool: String
    /// The target arguments (nil for `no_tool`).
    public var arguments: JSONValue?

    /// A row as given.
    public init(prompt: String, tool: String, arguments: JSONValue?) {
        self.prompt = prompt
        self.tool = tool
        self.arguments = arguments
    }

    /// Reads one JSONL line, checking the target against `catalogue` (a tool target must name a
    /// catalogue tool and its arguments must pass the tool's schema). Errors are one sentence.
    public init(line: String, catalogue: ToolCatalogue) throws(GoldRowError) {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch { throw GoldRowError("not JSON: \(error)") }
        guard let prompt = value["prompt"]?.stringValue, !prompt.isEmpty else { throw GoldRowError("needs a non-empty \"prompt\" string") }
        guard let target = value["target"], let tool = target["tool"]?.stringValue else { throw GoldRowError("needs \"target\": {\"tool\": NAME, ...}") }
        self.prompt = prompt
        self.tool = tool
        if tool == ToolCatalogue.noToolName {
            arguments = nil
            return
        }
        guard let arguments = target["arguments"], case .object = arguments else { throw GoldRowError("target \(tool) needs an \"arguments\" object") }
        guard catalogue.tool(named: tool) != nil else { throw GoldRowError("target tool \(tool) is not in the catalogue") }
        // A gold call answers its prompt: its x-from-input values must be spans of it, as the router's must.
        let issues = catalogue.validate(.tool(name: tool, arguments: arguments), origin: .request(prompt))
        guard issues.isEmpty else {
            throw GoldRowError("target fails its schema: " + issues.map { "\($0.instancePointer): \($0.message)" }.joined(separator: "; "))
        }
        self.arguments = arguments
    }
}

/// A gold row that cannot be used.
public struct GoldRowError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// What the router produced for one gold row.
public struct EvalOutcome: Sendable {
    /// The row.
    public var gold: GoldRow
    /// The valid call produced, or nil when the output was not a valid call.
    public var call: ToolCall?
    /// End-to-end routing time in milliseconds.
    public var milliseconds: Double

    /// An outcome as given.
    public init(gold: GoldRow, call: ToolCall?, milliseconds: Double) {
        self.gold = gold
        self.call = call
        self.milliseconds = milliseconds
    }

    /// The output names the target's tool.
    public var toolMatches: Bool { call?.toolName == gold.tool }

    /// The output is the target's tool with equal arguments (for `no_tool` targets: the tool matches).
    public var exactMatch: Bool {
        guard let call, toolMatches else { return false }
        guard case .tool(_, let arguments) = call, let expected = gold.arguments else { return true }
        return arguments.isEquivalent(to: expected)
    }
}

/// The report over a set of outcomes; each rate is a fraction in 0...1 with its denominator.
public struct EvalReport: Sendable {
    /// Rows scored.
    public let rows: Int
    /// Valid calls over all rows.
    public let validRate: Double
    /// Correct tool names over all rows.
    public let toolAccuracy: Double
    /// Matching arguments over rows whose target is a tool and whose output calls that tool validly.
    public let argumentAccuracy: Double
    /// How many rows `argumentAccuracy` is over.
    public let argumentRows: Int
    /// Tool calls over rows whose target is `no_tool`.
    public let falseToolCallRate: Double
    /// How many `no_tool` rows got a tool call.
    public let falseToolCalls: Int
    /// How many `no_tool` rows there are.
    public let noToolRows: Int
    /// Rows fully right (tool and arguments) over all rows.
    public let exactAccuracy: Double
    /// Median and 95th percentile routing time, in milliseconds.
    public let latencyP50: Double
    public let latencyP95: Double

    /// Scores `outcomes`.
    public init(_ outcomes: [EvalOutcome]) {
        func fraction(_ count: Int, _ total: Int) -> Double { total == 0 ? 0 : Double(count) / Double(total) }
        rows = outcomes.count
        validRate = fraction(outcomes.filter { $0.call != nil }.count, rows)
        toolAccuracy = fraction(outcomes.filter(\.toolMatches).count, rows)
        let argumentCases = outcomes.filter { $0.gold.tool != ToolCatalogue.noToolName && $0.toolMatches }
        argumentRows = argumentCases.count
        argumentAccuracy = fraction(argumentCases.filter(\.exactMatch).count, argumentRows)
        let noTool = outcomes.filter { $0.gold.tool == ToolCatalogue.noToolName }
        noToolRows = noTool.count
        falseToolCalls = noTool.filter { ($0.call?.toolName ?? ToolCatalogue.noToolName) != ToolCatalogue.noToolName }.count
        falseToolCallRate = fraction(falseToolCalls, noToolRows)
        exactAccuracy = fraction(outcomes.filter(\.exactMatch).count, rows)
        let times = outcomes.map(\.milliseconds).sorted()
        func percentile(_ p: Double) -> Double {
            guard !times.isEmpty else { return 0 }
            return times[min(times.count - 1, Int((p * Double(times.count - 1)).rounded()))]
        }
        latencyP50 = percentile(0.5)
        latencyP95 = percentile(0.95)
    }
}

extension JSONValue {
    /// Equal as JSON data: objects compare as maps (member order ignored), arrays in order, numbers
    /// by value (1 == 1.0), strings exactly.
    public func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for member in a {
                guard let match = b.first(where: { $0.key == member.key }), member.value.isEquivalent(to: match.value) else { return false }
            }
            return true
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        default:
            return self == other
        }
    }
}
