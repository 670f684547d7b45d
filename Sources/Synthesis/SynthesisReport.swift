// What a synthesis run did, for the adapter card and for judging an examples file: rows per tool,
// where the no_tool rows came from, how often each optional argument is present, which example
// values became slots, and which generated rows the validator refused (never written).

import JSON

/// Counts from one synthesis run. Every list is in a fixed order (catalogue order, line order,
/// sorted names), so two runs with the same seed give byte-identical reports.
public struct SynthesisReport: Sendable, Equatable {
    /// Slot finding for one example line: slots found, values implied by the wording, pointers not found.
    public struct SlotLine: Sendable, Equatable {
        public var line: Int, tool: String, found: Int, implied: Int
        public var notFound: [String]
    }
    /// How many of a tool's rows state an optional property.
    public struct Presence: Sendable, Equatable {
        public var tool: String, property: String, present: Int, rows: Int
        /// present / rows (0 without rows).
        public var fraction: Double { rows == 0 ? 0 : Double(present) / Double(rows) }
    }

    /// The run's seed.
    public var seed: UInt64 = 0
    /// Rows asked for.
    public var requestedRows = 0
    /// Rows per tool in catalogue order, then no_tool.
    public var rowsPerTool: [(tool: String, rows: Int)] = []
    /// no_tool rows by source: "examples", "cut", "pool".
    public var noToolBySource: [(source: String, rows: Int)] = []
    /// Optional-argument presence per tool and property, in catalogue and schema order.
    public var optionalPresence: [Presence] = []
    /// Slot finding per example line.
    public var slots: [SlotLine] = []
    /// Rows refused by the validator, by reason (sorted).
    public var dropped: [(reason: String, rows: Int)] = []
    /// Candidate rows skipped because their prompt was already generated.
    public var duplicatesSkipped = 0
    /// Planned rows that could not be made (e.g. every attempt failed validation).
    public var shortfall = 0
    /// The examples file's warnings.
    public var warnings: [String] = []
    /// Pool lines left after dropping those that overlap the catalogue's vocabulary.
    public var poolLinesKept = 0

    /// Equal when their JSON is equal.
    public static func == (a: SynthesisReport, b: SynthesisReport) -> Bool { a.json == b.json }

    /// The report as JSON.
    public var json: JSONValue {
        func count(_ n: Int) -> JSONValue { .number(JSONNumber(n)) }
        return .object([
            ("seed", .number(JSONNumber(literal: String(seed)))),
            ("requested_rows", count(requestedRows)),
            ("rows_per_tool", .object(rowsPerTool.map { ($0.tool, count($0.rows)) })),
            ("no_tool_by_source", .object(noToolBySource.map { ($0.source, count($0.rows)) })),
            ("optional_presence", .array(optionalPresence.map {
                .object([("tool", .string($0.tool)), ("property", .string($0.property)), ("present", count($0.present)), ("rows", count($0.rows))])
            })),
            ("slots", .array(slots.map {
                .object([("line", count($0.line)), ("tool", .string($0.tool)), ("found", count($0.found)), ("implied", count($0.implied)),
                         ("not_found", .array($0.notFound.map(JSONValue.string)))])
            })),
            ("dropped", .object(dropped.map { ($0.reason, count($0.rows)) })),
            ("duplicates_skipped", count(duplicatesSkipped)),
            ("shortfall", count(shortfall)),
            ("pool_lines_kept", count(poolLinesKept)),
            ("warnings", .array(warnings.map(JSONValue.string))),
        ])
    }
}
