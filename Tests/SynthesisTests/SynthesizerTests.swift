// The generator end to end on the made-up library catalogue: determinism, validity, grounding of
// values in their prompts, optional-argument balance, the no_tool share and cut variants.

import Foundation
import JSON
import Testing
import ToolCalls
@testable import Synthesis

@Suite struct SynthesizerTests {
    let catalogue: ToolCatalogue
    let examples: ExampleSet
    init() throws {
        catalogue = try Library.catalogue()
        examples = try Library.examples(catalogue)
    }

    func run(rows: Int = 1200, seed: UInt64 = 11, noTool: Double = 0.18) -> SynthesisResult {
        Synthesizer(catalogue: catalogue, examples: examples, options: SynthesisOptions(rows: rows, seed: seed, noToolFraction: noTool)).run()
    }

    @Test func deterministicForASeed() {
        let a = run(seed: 5), b = run(seed: 5), c = run(seed: 6)
        #expect(a.jsonl == b.jsonl)
        #expect(a.report == b.report)
        #expect(a.jsonl != c.jsonl)
    }

    @Test func everyRowValidatesAndEveryToolIsCovered() {
        let result = run()
        #expect(result.rows.count == 1200)
        #expect(result.report.shortfall == 0)
        for row in result.rows { #expect(catalogue.validate(row.call, origin: .request(row.prompt)).isEmpty, "\(row.call)") }
        let tools = Set(result.rows.map(\.call.toolName))
        #expect(tools == Set(catalogue.names + [ToolCatalogue.noToolName]))
    }

    /// Read back as examples, every generated tool row has each value stated in its prompt: nothing
    /// invented, and an optional argument is present exactly when its slot is in the text.
    @Test func everyValueIsStatedInItsPrompt() throws {
        let result = run(rows: 800)
        let text = result.rows.filter { $0.call.toolName != ToolCatalogue.noToolName }.map { JSONWriter.compact($0.json) }.joined(separator: "\n")
        let reread = try ExampleSet.parse(text, path: "generated.jsonl", catalogue: catalogue)
        let missing = reread.warnings.compactMap { warning -> String? in
            if case .valueNotFound = warning { return warning.description } else { return nil }
        }
        #expect(missing.isEmpty, "\(missing.prefix(5))")
    }

    @Test func optionalArgumentsAreBalanced() {
        let result = run(rows: 2000)
        for property in [("book_room", "duration_minutes"), ("pay_fine", "discount_percent"), ("ship_book", "tags")] {
            let presence = result.report.optionalPresence.first { $0.tool == property.0 && $0.property == property.1 }
            let fraction = presence?.fraction ?? -1
            #expect(fraction > 0.35 && fraction < 0.65, "\(property): \(fraction)")
        }
    }

    @Test func noToolShareIsAsAsked() {
        for share in [0.15, 0.18, 0.2] {
            let result = run(rows: 1000, noTool: share)
            let count = result.rows.filter { $0.call.toolName == ToolCatalogue.noToolName }.count
            #expect(count == Int((1000 * share).rounded()))
            let sources = Dictionary(uniqueKeysWithValues: result.report.noToolBySource.map { ($0.source, $0.rows) })
            #expect((sources["examples"] ?? 0) > 0 && (sources["cut"] ?? 0) > 0 && (sources["pool"] ?? 0) > 0)
        }
    }

    @Test func cutVariantsLackTheValue() throws {
        let result = run(rows: 2000)
        let cuts = result.rows.filter { $0.source == "no_tool:cut" }
        #expect(cuts.count > 20)
        let bookID = try #require(try? RegexLite.bookID())
        for row in cuts {
            guard case .noTool(let reason) = row.call else { Issue.record("cut row is a call"); continue }
            #expect(reason.hasPrefix("missing "))
            if reason == "missing book_id" { #expect(!bookID(row.prompt), "\(row.prompt)") }
            if reason == "missing start_time" { #expect(ClockText.scan(Array(row.prompt)).isEmpty, "\(row.prompt)") }
        }
        #expect(cuts.contains { $0.call == .noTool(reason: "missing book_id") })
    }

    @Test func slotsAreNeverMisspelt() {
        let result = run(rows: 1500)
        for row in result.rows {
            guard case .tool(_, let arguments) = row.call, let id = arguments["book_id"]?.stringValue else { continue }
            #expect(row.prompt.contains(id))
        }
    }
}

/// "BK-" followed by digits, without Foundation's regex.
enum RegexLite {
    static func bookID() throws -> (String) -> Bool {
        { text in
            let chars = Array(text)
            for i in chars.indices where i + 3 < chars.count && String(chars[i..<(i + 3)]) == "BK-" && chars[i + 3].isNumber { return true }
            return false
        }
    }
}

@Suite struct HostileExampleTests {
    /// Private-use characters are the generator's placeholders; a prompt that has them is skipped as a frame, not misread.
    @Test func privateUseCharactersInAPromptAreHarmless() throws {
        let catalogue = try Library.catalogue()
        let text = #"{"prompt": "Lend me BK-1234 \#u{E001}\#u{E005} for 5 days", "target": {"tool": "borrow_book", "arguments": {"book_id": "BK-1234", "days": 5}}}"#
            + "\n" + #"{"prompt": "Lend me BK-4321 for 6 days", "target": {"tool": "borrow_book", "arguments": {"book_id": "BK-4321", "days": 6}}}"#
        let set = try ExampleSet.parse(text, path: "h.jsonl", catalogue: catalogue)
        let result = Synthesizer(catalogue: catalogue, examples: set, options: SynthesisOptions(rows: 100, seed: 1)).run()
        #expect(result.rows.count == 100)
        for row in result.rows { #expect(catalogue.validate(row.call, origin: .request(row.prompt)).isEmpty) }
    }
}

@Suite struct ValidationDropTests {
    /// A schema rule across arguments (never both `items` and `loops`) that carriers can break:
    /// such rows are refused by the validator, counted, and never written.
    @Test func refusedRowsAreCountedAndNotWritten() throws {
        let catalogue = try ToolCatalogue(json: JSONParser.parse(#"""
        [{"type": "function", "function": {"name": "run_job", "parameters": {"type": "object",
          "properties": {"job": {"type": "string", "pattern": "^[a-z]+$"}, "items": {"type": "integer", "minimum": 1, "maximum": 50},
                         "loops": {"type": "integer", "minimum": 1, "maximum": 50}},
          "required": ["job"], "not": {"required": ["items", "loops"]}, "additionalProperties": false}}}]
        """#))
        let examples = try ExampleSet.parse(#"""
        {"prompt": "Run alpha, 5 items.", "target": {"tool": "run_job", "arguments": {"job": "alpha", "items": 5}}}
        {"prompt": "Run beta, 7 loops.", "target": {"tool": "run_job", "arguments": {"job": "beta", "loops": 7}}}
        """#, path: "j.jsonl", catalogue: catalogue)
        let result = Synthesizer(catalogue: catalogue, examples: examples, options: SynthesisOptions(rows: 300, seed: 2)).run()
        #expect(result.rows.count == 300)
        for row in result.rows { #expect(catalogue.validate(row.call, origin: .request(row.prompt)).isEmpty) }
        #expect(result.report.dropped.contains { $0.reason == "run_job / not" && $0.rows > 0 }, "\(result.report.dropped)")
    }
}
