// The hostile-catalogue corpus (TestSupport.HostileCatalogues) through the path `serve` takes at
// start and at every reload: the catalogue read from its file, then prepared by the request pipeline
// (grammar compiled, mask budget checked, masks warmed, prefix computed), on the real model. Each
// case must give its clear error or load; none may crash, hang or take memory without bound. Times
// and memory are printed for the report, never asserted (except a generous bound on peak memory).

import Foundation
import GGUF
import Inference
import JSON
import Testing
import TestSupport
import SchemaGrammar
import TokenMatcher
import Tokenizer
import ToolCalls
@testable import Router

@Suite("Hostile catalogues", .serialized)
struct HostileCatalogueTests {
    /// A pipeline on the real model with no catalogue loaded (budget: the default).
    static func emptyPipeline() throws -> RequestPipeline {
        let file = try GGUFFile(path: TestPaths.requireModel())
        return RequestPipeline(model: try ModelWeights(file: file), tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
    }

    /// Loads `path` the way ServingBuild does; the error text, or nil when it loaded.
    static func load(_ path: String, name: String, into pipeline: RequestPipeline) -> String? {
        let catalogue: ToolCatalogue
        do { catalogue = try ToolCatalogue(contentsOf: path) } catch { return "\(path): \(error)" }
        do { try pipeline.load(name: name, catalogue: catalogue) } catch { return "catalogue \(name): \(error)" }
        return nil
    }

    /// The process's current and peak resident memory in MiB (from /proc/self/status).
    static func memory() -> (rss: Int, peak: Int) {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    @Test("the corpus's depth bound is the shared one")
    func sharedBound() {
        #expect(HostileCatalogues.depthLimit == NestingLimit.depth)
    }

    @Test("each hostile catalogue gives its clear error or a bounded load", arguments: try HostileCatalogues.all())
    func corpus(_ hostile: HostileCatalogues.Case) throws {
        let dir = NSTemporaryDirectory() + "toolrouter-hostile-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = try hostile.write(into: dir)
        let pipeline = try Self.emptyPipeline()
        let before = Self.memory()
        let start = Date()
        let error = Self.load(path, name: hostile.name, into: pipeline)
        let seconds = Date().timeIntervalSince(start)
        let after = Self.memory()
        print("hostile \(hostile.name): \(String(format: "%.2f", seconds)) s, RSS \(before.rss) → \(after.rss) MiB (peak \(after.peak) MiB): "
              + (error.map { String($0.prefix(300)) } ?? "loaded"))
        if let expected = hostile.expectedError {
            let message = try #require(error, "\(hostile.name) loaded, but must be refused")
            for part in expected { #expect(message.contains(part), "\(hostile.name): \(message.prefix(500))") }
        } else {
            #expect(error == nil, "\(hostile.name): \(error ?? "")")
        }
        // Nothing in the corpus may take memory without bound (the unfixed 60,000-value enum took 3.9 GB).
        #expect(after.peak < 2048, "peak RSS \(after.peak) MiB")
    }
}

extension HostileCatalogueTests {
    @Suite("Mask cache budget")
    struct MaskBudgetTests {
        static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

        /// The estimate is what the budget is checked against, so it must not undercount: for the demo
        /// catalogues and a 2,000-value enum it is at least the number of entries warming computes.
        /// Prints the memory warming took per entry (the figure `MaskWarmEstimate.entryOverhead` rests on).
        @Test("the estimate counts at least the entries warming computes", arguments: ["support", "devops", "enum-2000"])
        func estimateBoundsWarming(_ name: String) throws {
            let file = try GGUFFile(path: TestPaths.requireModel())
            let vocabulary = ConstrainedDecoder.vocabulary(of: try BPETokenizer(gguf: file))
            let catalogue = name == "enum-2000"
                ? try ToolCatalogue(json: JSONParser.parse(HostileCatalogues.hugeEnum(values: 2_000)))
                : try ToolCatalogue(contentsOf: Self.fixtures.appendingPathComponent("\(name).tools.json").path)
            let grammar = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
            let estimate = grammar.maskWarmEstimate(for: vocabulary)
            let before = HostileCatalogueTests.memory().rss
            let computed = grammar.prepareMasks(for: vocabulary)
            let after = HostileCatalogueTests.memory().rss
            print("mask estimate \(name): \(estimate.entries) entries, \(estimate.bytes >> 20) MiB estimated; warming computed \(computed) entries, "
                  + "RSS +\(after - before) MiB (\(computed == 0 ? 0 : (after - before) * 1024 / computed) KiB per entry)")
            #expect(estimate.entries >= computed)
            #expect(computed > 0)
        }

        @Test("a catalogue past the budget is refused before warming, naming the catalogue, the estimate and the budget")
        func refusedPastTheBudget() throws {
            let pipeline = try HostileCatalogueTests.emptyPipeline()
            let support = try ToolCatalogue(contentsOf: Self.fixtures.appendingPathComponent("support.tools.json").path)
            pipeline.maskCacheBudgetBytes = 1 << 20
            #expect {
                try pipeline.load(name: "support", catalogue: support)
            } throws: { error in
                guard case CatalogueLoadError.maskBudgetExceeded("support", let states, let estimated, 1 << 20) = error else { return false }
                return states > 0 && estimated > 1 << 20
                    && "\(error)".hasPrefix("catalogue 'support': warming its token masks would take about ")
                    && "\(error)".contains("over the mask cache budget of 1 MiB (mask_cache_budget_mb)")
            }
            #expect(pipeline.catalogues.isEmpty)
            pipeline.maskCacheBudgetBytes = RequestPipeline.defaultMaskCacheBudgetBytes
            try pipeline.load(name: "support", catalogue: support)
            #expect(pipeline.catalogues.map(\.name) == ["support"])
        }
    }
}
