// The gold sets under training/gold are usable and held out: every row is a valid target for its catalogue,
// every tool is covered, no_tool is 10–25% of rows, and gold prompts are not in the catalogue's examples file
// (training/examples/<catalogue>.jsonl, the only text the adapters are trained from), compared by their words
// (case and punctuation ignored): only short commands that two writers phrased alike, under a tenth of the rows. `dev` sets guided the training choices; `test` sets are
// evaluated once, at the end.

import Foundation
import Testing
@testable import ToolCalls

@Suite("Gold sets")
struct GoldSetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func lines(_ relative: String) throws -> [String] {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// A prompt's words, lower-cased, without punctuation: near copies compare equal.
    static func words(_ prompt: String) -> String {
        prompt.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: " ")
    }

    /// The examples file's prompts, as words.
    static func examplePrompts(_ name: String) throws -> Set<String> {
        Set(try lines("training/examples/\(name).jsonl").compactMap { try JSONParserProxy.prompt(of: $0) }.map(words))
    }

    @Test("every gold row is a valid target; every tool is covered; enough rows; held out from training",
          arguments: [("support", "dev", 50), ("devops", "dev", 50), ("home", "dev", 50),
                       ("support", "test", 30), ("devops", "test", 30), ("home", "test", 30)])
    func goldSet(name: String, split: String, minimum: Int) throws {
        let catalogue = try ToolCatalogue(contentsOf: Self.root.appendingPathComponent("examples/catalogues/\(name).tools.json").path)
        let rows = try Self.lines("training/gold/\(name).\(split).jsonl").map { try GoldRow(line: $0, catalogue: catalogue) }
        #expect(rows.count >= minimum)
        #expect(Set(rows.map(\.tool)).isSuperset(of: catalogue.tools.map(\.name)))
        let refusals = Double(rows.filter { $0.tool == ToolCatalogue.noToolName }.count) / Double(rows.count)
        #expect((0.1...0.25).contains(refusals), "no_tool share \(refusals)")
        let examples = try Self.examplePrompts(name)
        #expect(examples.count >= 30)
        // No gold prompt is copied; a short command two people wrote alike ("Lock the front door." and
        // "lock the front door") may recur, but rarely (these rows' figures are flattered, and the
        // closing notes say so).
        let copied = rows.map(\.prompt).filter { examples.contains(Self.words($0)) }
        #expect(copied.allSatisfy { $0.split(separator: " ").count <= 7 }, "long gold prompts found in the examples file: \(copied)")
        #expect(copied.count * 10 <= rows.count, "gold prompts found in the examples file: \(copied)")
    }

    @Test("the test sets share no prompt with the dev sets", arguments: ["support", "devops", "home"])
    func testDisjointFromDev(name: String) throws {
        let dev = Set(try Self.lines("training/gold/\(name).dev.jsonl").compactMap { try JSONParserProxy.prompt(of: $0) })
        let test = try Self.lines("training/gold/\(name).test.jsonl").compactMap { try JSONParserProxy.prompt(of: $0) }
        #expect(test.count >= 30 && test.allSatisfy { !dev.contains($0) })
    }
}

/// The `prompt` of a training row.
private enum JSONParserProxy {
    static func prompt(of line: String) throws -> String? { try json(line)["prompt"]?.stringValue }
}
