// The pattern sampler (property test over several patterns), the generic no_tool pool's
// vocabulary filter, and the three demo catalogues with quick examples files.

import Foundation
import JSON
import SchemaGrammar
import TestSupport
import Testing
import ToolCalls
@testable import Synthesis

@Suite struct PatternSamplerTests {
    static let patterns = ["^[a-z][a-z0-9-]{1,40}$", "^ORD-[0-9]{4,8}$", "^([01][0-9]|2[0-3]):[0-5][0-9]$", "^[A-Z]{2}$",
                           "^(foo|bar)+_[0-9]?x*$", "^\\d{3}-\\d{4}$", "colou?r", "^[^a-z]{3}$", "^\\w+@\\w+\\.(com|org)$",
                           "^[A-Z][a-z]+( [A-Z][a-z]+)*$", "a^b|c"]

    @Test(arguments: patterns) func samplesMatchTheirPattern(_ pattern: String) throws {
        let sampler = try PatternSampler(pattern)
        let matcher = try PatternMatcher(pattern)
        var random = SeededRandom(state: 42)
        var produced = 0
        for _ in 0..<200 {
            guard let sample = sampler.sample(using: &random) else { continue }
            produced += 1
            #expect(matcher.matches(sample), "\(pattern): \(sample)")
        }
        #expect(produced > 150, "\(pattern)")
    }

    @Test func samplingIsDeterministic() throws {
        let sampler = try PatternSampler("^[a-z][a-z0-9-]{1,40}$")
        var a = SeededRandom(state: 7), b = SeededRandom(state: 7)
        let first = (0..<20).map { _ in sampler.sample(using: &a) }
        let second = (0..<20).map { _ in sampler.sample(using: &b) }
        #expect(first == second)
    }

    @Test func impossiblePatternGivesNil() throws {
        var random = SeededRandom(state: 1)
        #expect(try PatternSampler("a^b").sample(using: &random) == nil)
    }
}

@Suite struct NoToolPoolTests {
    @Test func poolIsLargeAndDropsCatalogueWords() throws {
        let weather = try ToolCatalogue(json: JSONParser.parse(#"""
        [{"type": "function", "function": {"name": "get_weather", "description": "Current weather and rain forecast for a city.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        """#))
        #expect(NoToolPool.lines.count >= 300)
        let kept = NoToolPool.lines(for: weather)
        #expect(kept.count > 200)
        #expect(!kept.contains { $0.text.lowercased().contains("weather") || $0.text.lowercased().contains("rain ") })
        #expect(NoToolPool.lines.contains { $0.text.lowercased().contains("weather") })
    }
}

@Suite struct DemoCatalogueTests {
    @Test(arguments: ["support", "devops", "home"]) func generatesForDemoCatalogue(_ name: String) throws {
        let root = TestPaths.packageRoot
        let catalogue = try ToolCatalogue(contentsOf: root.appendingPathComponent("examples/catalogues/\(name).tools.json").path)
        let examples = try ExampleSet.load(path: root.appendingPathComponent("Tests/SynthesisTests/Fixtures/\(name).examples.jsonl").path,
                                           catalogue: catalogue)
        #expect(examples.warnings.isEmpty, "\(examples.warnings)")
        let result = Synthesizer(catalogue: catalogue, examples: examples, options: SynthesisOptions(rows: 600, seed: 3)).run()
        #expect(result.rows.count == 600)
        for row in result.rows { #expect(catalogue.validate(row.call).isEmpty) }
        #expect(Set(result.rows.map(\.call.toolName)) == Set(catalogue.names + [ToolCatalogue.noToolName]))
        #expect(result.rows.filter { $0.call.toolName == ToolCatalogue.noToolName }.count == 108)
    }
}
