// `x-from-input` on the real model: the shipped support catalogue grounds its order ids, so a request
// that names no order cannot become a call that needs one, and what grounding costs per request.

import Foundation
import GGUF
import Inference
import JSON
import SchemaGrammar
import Testing
import TestSupport
import TokenMatcher
import Tokenizer
import ToolCalls
@testable import Router

@Suite("Grounded arguments on the real model", .serialized)
struct GroundedRoutingTests {
    static func catalogue(_ name: String) throws -> ToolCatalogue {
        try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/\(name).tools.json").path)
    }

    /// The daemon's pipeline over the shipped support catalogue and adapter.
    static func pipeline() throws -> RequestPipeline {
        let file = try GGUFFile(path: TestPaths.requireModel())
        let model = try ModelWeights(file: file)
        let pipeline = RequestPipeline(model: model, tokenizer: try BPETokenizer(gguf: file), template: try ChatTemplate(gguf: file))
        let adapter = try LoRAAdapter.load(path: TestPaths.packageRoot.appendingPathComponent("adapters/support").path, config: model.config)
        try pipeline.load(name: "support", catalogue: try catalogue("support"), adapter: adapter)
        return pipeline
    }

    static let needOrder: Set<String> = ["track_order", "request_refund", "update_address"]

    @Test("a request with no order id cannot produce a call that needs one", arguments: [
        "I want a refund, the blender arrived broken.",
        "Where is my package? It should have arrived on Monday.",
        "Please send my order to 12 Main Street, Springfield 62704, US instead.",
        "Refund order 1234 please, it was damaged.",
    ])
    func noOrderIDNoOrderCall(input: String) throws {
        let pipeline = try Self.pipeline()
        let routed = try pipeline.route(catalogue: "support", input: input)
        #expect(!Self.needOrder.contains(routed.call.toolName), "\(input) → \(routed.raw)")
    }

    @Test("a forced tool whose grounded argument the request lacks is refused before decoding")
    func forcedToolUngrounded() throws {
        let pipeline = try Self.pipeline()
        let outcome = Result { () throws(RouteError) in
            try pipeline.route(RouteRequest(catalogue: "support", input: "Where is my parcel?", toolChoice: .tool("track_order")))
        }
        guard case .failure(.decoding(.ungrounded)) = outcome else {
            Issue.record("expected ungrounded, got \(outcome)")
            return
        }
    }

    @Test("with the order id in the request, the call copies it")
    func orderIDIsCopied() throws {
        let pipeline = try Self.pipeline()
        let routed = try pipeline.route(catalogue: "support", input: "Where is my order ORD-55821?")
        #expect(routed.call.toolName == "track_order", "\(routed.raw)")
        #expect(routed.raw.contains(#""order_id":"ORD-55821""#), "\(routed.raw)")
    }

    /// Median of `samples` in microseconds.
    static func median(_ samples: [Double]) -> Double { samples.sorted()[samples.count / 2] * 1e6 }

    @Test("cost per request: automaton build, matcher start, masks at grounded steps (prints the figures)")
    func cost() throws {
        let file = try GGUFFile(path: TestPaths.requireModel())
        let vocabulary = ConstrainedDecoder.vocabulary(of: try BPETokenizer(gguf: file))
        let catalogue = try Self.catalogue("support")
        let grammar = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        grammar.prepareMasks(for: vocabulary)
        let gold = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("training/gold/support.dev.jsonl"), encoding: .utf8)
        let prompts = try gold.split(separator: "\n").compactMap { try JSONParser.parse(String($0))["prompt"]?.stringValue }
        var build: [Double] = [], start: [Double] = [], plainStart: [Double] = [], grounded: [Double] = [], cached: [Double] = []
        var mask = TokenMask(count: 0)
        for prompt in prompts {
            var t = MonotonicClock.now()
            _ = GrammarMatcher(grammar: grammar)
            plainStart.append(MonotonicClock.now() - t)
            t = MonotonicClock.now()
            let spans = RequestSpans(prompt)
            build.append(MonotonicClock.now() - t)
            t = MonotonicClock.now()
            let matcher = GrammarMatcher(grammar: grammar, spans: spans)
            start.append(MonotonicClock.now() - t)
            // A cached step (the tool name) and a grounded one (inside the refund reason, a free-text span).
            #expect(matcher.accept(Array(#"{"tool":""#.utf8)))
            t = MonotonicClock.now()
            matcher.allowedTokens(vocabulary, into: &mask)
            cached.append(MonotonicClock.now() - t)
            let reasonPrefix = #"escalate","arguments":{"reason":""#
            guard matcher.accept(Array(reasonPrefix.utf8)) else { continue }
            t = MonotonicClock.now()
            matcher.allowedTokens(vocabulary, into: &mask)
            grounded.append(MonotonicClock.now() - t)
        }
        let figures = String(format: "grounding cost over %d support dev requests (median µs): automaton %.1f, matcher start %.1f "
                             + "(without a request %.1f), mask at the tool name %.1f, mask inside a grounded span %.1f",
                             prompts.count, Self.median(build), Self.median(start), Self.median(plainStart), Self.median(cached),
                             Self.median(grounded))
        print(figures)
        #expect(Self.median(build) < 1000, "\(figures)")
        #expect(grounded.count == prompts.count)
    }
}
