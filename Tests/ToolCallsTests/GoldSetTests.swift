// The dev gold sets under training/gold are usable and held out: every row is a valid target for its
// catalogue, every tool is covered, no_tool is 10–20% of rows, and no gold prompt is in the training data.

import Foundation
import Testing
@testable import ToolCalls

@Suite("Dev gold sets")
struct GoldSetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func lines(_ relative: String) throws -> [String] {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }

    @Test("every gold row is a valid target; every tool is covered; at least 50 rows; held out from training", arguments: ["support", "devops"])
    func goldSet(name: String) throws {
        let catalogue = try ToolCatalogue(contentsOf: fixturePath("\(name).tools.json"))
        let rows = try Self.lines("training/gold/\(name).dev.jsonl").map { try GoldRow(line: $0, catalogue: catalogue) }
        #expect(rows.count >= 50)
        #expect(Set(rows.map(\.tool)).isSuperset(of: catalogue.tools.map(\.name)))
        let refusals = Double(rows.filter { $0.tool == ToolCatalogue.noToolName }.count) / Double(rows.count)
        #expect((0.1...0.25).contains(refusals), "no_tool share \(refusals)")
        let trained = Set(try Self.lines("training/data/\(name).train.jsonl").compactMap { try? JSONParserProxy.prompt(of: $0) })
        #expect(!trained.isEmpty)
        let leaked = rows.map(\.prompt).filter(trained.contains)
        #expect(leaked.isEmpty, "gold prompts found in the training data: \(leaked)")
    }
}

/// The `prompt` of a training row.
private enum JSONParserProxy {
    static func prompt(of line: String) throws -> String? { try json(line)["prompt"]?.stringValue }
}
