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
        for row in result.rows { #expect(catalogue.validate(row.call, origin: .request(row.prompt)).isEmpty) }
        #expect(Set(result.rows.map(\.call.toolName)) == Set(catalogue.names + [ToolCatalogue.noToolName]))
        #expect(result.rows.filter { $0.call.toolName == ToolCatalogue.noToolName }.count == 108)
    }
}

@Suite struct ValuePoolTests {
    func schema(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    @Test func stringPoolsUseSchemaExamplesAndKeepThePattern() throws {
        var random = SynthRandom(seed: 9)
        let pool = ValuePool(schema: try schema(#"{"type": "string", "pattern": "^[A-Z][a-z]+$", "examples": ["Nebula", "quasar"]}"#),
                             propertyName: "codename", exampleValues: [.string("Comet")], siblingValues: [], random: &random)
        let draws = (0..<300).compactMap { _ in pool.draw(for: .text(.asIs), random: &random)?.stringValue }
        #expect(draws.count == 300)
        #expect(draws.contains("Nebula") && draws.contains("Comet"))
        #expect(!draws.contains("quasar"))   // fails the pattern
        #expect(draws.allSatisfy { $0.first?.isUppercase ?? false })
    }

    @Test func numbersStayInRangeAndFitTheirForm() throws {
        var random = SynthRandom(seed: 4)
        let pool = ValuePool(schema: try schema(#"{"type": "integer", "minimum": 5, "maximum": 9}"#), propertyName: "copies",
                             exampleValues: [], siblingValues: [], random: &random)
        for _ in 0..<200 {
            let value = try #require(pool.draw(for: .number(.word), random: &random)?.intValue)
            #expect((5...9).contains(value))
        }
        let minutes = ValuePool(schema: try schema(#"{"type": "integer", "minimum": 1, "maximum": 1440}"#), propertyName: "since_minutes",
                                exampleValues: [], siblingValues: [], random: &random)
        let hours = SurfaceForm.duration(DurationStyle(unit: .hours, abbreviation: nil, spaced: true, count: .digits), schemaUnit: .minutes)
        for _ in 0..<200 {
            let value = try #require(minutes.draw(for: hours, random: &random)?.intValue)
            #expect(value % 60 == 0 && value <= 1440)
        }
    }

    @Test func genericPoolsByPropertyName() {
        #expect(GenericText.poolWords(for: "assignee") == ["person"])
        #expect(GenericText.poolWords(for: "contact_email") == ["email"])
        #expect(GenericText.poolWords(for: "postalCode") == ["postal"])
        #expect(GenericText.poolWords(for: "replicas").isEmpty)
    }
}

@Suite struct FrameEditingTests {
    func frameText(_ frame: Frame) -> String {
        String(frame.text.map { c in Frame.slotIndex(c).map { _ in Character("@") } ?? c })
    }

    @Test func cutsTakeAttachedWordsAlong() throws {
        let catalogue = try Library.catalogue()
        let example = try Library.analyse(#"{"prompt": "Post two copies of BK-118 to FR, tagged gift.", "target": {"tool": "ship_book", "arguments": {"book_id": "BK-118", "country": "FR", "copies": 2, "tags": ["gift"]}}}"#, catalogue)
        let frame = try #require(Frame(example: example))
        #expect(frameText(frame) == "Post @ copies of @ to @, tagged @.")
        #expect(try frameText(#require(FrameEditing.cutRequired("book_id", from: frame))) == "Post @ copies to @, tagged @.")
        #expect(try frameText(#require(FrameEditing.cutRequired("country", from: frame))) == "Post @ copies of @, tagged @.")
        let carrier = try #require(FrameEditing.carrier(of: "tags", in: frame))
        #expect(String(carrier.text.map { Frame.slotIndex($0) == nil ? $0 : "@" }) == ", tagged @")
        let cut = FrameEditing.cut(carrier, from: frame)
        #expect(frameText(cut) == "Post @ copies of @ to @.")
        #expect(cut.arguments["tags"] == nil)
        let back = FrameEditing.insert(carrier, into: cut, atStart: false)
        #expect(frameText(back) == "Post @ copies of @ to @, tagged @.")
        #expect(back.arguments["tags"] == .array([.string("gift")]))
    }

    @Test func aCutLeavesNoArticleHanging() throws {
        let catalogue = try Library.catalogue()
        let example = try Library.analyse(#"{"prompt": "Find the Dune, it is for my son.", "target": {"tool": "find_book", "arguments": {"title": "Dune"}}}"#, catalogue)
        let frame = try #require(Frame(example: example))
        #expect(try frameText(#require(FrameEditing.cutRequired("title", from: frame))) == "Find, it is for my son.")
        let middle = try Library.analyse(#"{"prompt": "Find the Dune book for my son.", "target": {"tool": "find_book", "arguments": {"title": "Dune"}}}"#, catalogue)
        let middleFrame = try #require(Frame(example: middle))
        #expect(try frameText(#require(FrameEditing.cutRequired("title", from: middleFrame))) == "Find the book for my son.")
    }

    @Test func noCarrierWhenTheClauseHoldsAnotherArgument() throws {
        let catalogue = try Library.catalogue()
        let example = try Library.analyse(#"{"prompt": "Book the quiet room for 2 hours at 9am.", "target": {"tool": "book_room", "arguments": {"room": "quiet_room", "start_time": "09:00", "duration_minutes": 120}}}"#, catalogue)
        let frame = try #require(Frame(example: example))
        #expect(FrameEditing.carrier(of: "duration_minutes", in: frame) == nil)
    }
}

@Suite struct FormatValueTests {
    /// Every format the validator knows gets values it accepts.
    @Test(arguments: ["date", "time", "date-time", "email", "uuid", "uri"]) func formatValuesValidate(_ format: String) throws {
        let validator = try SchemaValidator(schema: .object([("type", .string("string")), ("format", .string(format))]))
        var random = SynthRandom(seed: 21)
        for _ in 0..<100 {
            let value = try #require(FormatValues.make(format, random: &random))
            #expect(validator.isValid(.string(value)), "\(format): \(value)")
        }
    }
}
