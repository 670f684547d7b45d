// The gold sets under training/gold are usable and held out: every row is a valid target for its catalogue,
// every tool is covered, no_tool is 10–25% of rows, and no gold prompt is in any training file
// (training/data/<catalogue>.*.jsonl). `dev` sets guided the training; `test` sets were written later and
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

    /// Prompts of every training file of a catalogue.
    static func trainingPrompts(_ name: String) throws -> Set<String> {
        let folder = root.appendingPathComponent("training/data")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(name + ".") && $0.hasSuffix(".jsonl") }
        #expect(files.contains("\(name).train.jsonl"), "training files of \(name): \(files)")
        return Set(try files.flatMap { try lines("training/data/\($0)") }.compactMap { try? JSONParserProxy.prompt(of: $0) })
    }

    @Test("every gold row is a valid target; every tool is covered; enough rows; held out from training",
          arguments: [("support", "dev", 50), ("devops", "dev", 50), ("support", "test", 30), ("devops", "test", 30)])
    func goldSet(name: String, split: String, minimum: Int) throws {
        let catalogue = try ToolCatalogue(contentsOf: fixturePath("\(name).tools.json"))
        let rows = try Self.lines("training/gold/\(name).\(split).jsonl").map { try GoldRow(line: $0, catalogue: catalogue) }
        #expect(rows.count >= minimum)
        #expect(Set(rows.map(\.tool)).isSuperset(of: catalogue.tools.map(\.name)))
        let refusals = Double(rows.filter { $0.tool == ToolCatalogue.noToolName }.count) / Double(rows.count)
        #expect((0.1...0.25).contains(refusals), "no_tool share \(refusals)")
        let trained = try Self.trainingPrompts(name)
        #expect(trained.count >= 800)
        let leaked = rows.map(\.prompt).filter(trained.contains)
        #expect(leaked.isEmpty, "gold prompts found in the training data: \(leaked)")
    }

    @Test("the test sets share no prompt with the dev sets", arguments: ["support", "devops"])
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
