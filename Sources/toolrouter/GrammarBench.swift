// `toolrouter bench grammar`: grammar compile time, full-mask time per token, how steps are settled,
// and constrained against unconstrained decode speed on the real model.

import ArgumentParser
import Foundation
import Inference
import JSON
import Router
import TokenMatcher
import ToolCalls

struct GrammarBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grammar",
        abstract: "Grammar compile time, full-mask time per token (p50/p99), fast-path and jump-forward shares, constrained vs unconstrained decode speed.")

    @Option(help: "Tool catalogue (FILE.tools.json).")
    var catalogue: String

    @Option(help: "Canonical outputs to time masks along, one {\"output\": \"...\"} a line (default: examples/outputs/<name>.jsonl).")
    var outputs: String?

    @Option(help: "Requests to decode, one {\"prompt\": \"...\"} a line (default: examples/prompts/<name>.jsonl).")
    var prompts: String?

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Option(name: .customLong("chat-template"), help: "Chat template: chatml, llama3 or gemma (default: the one recognised from the model file).")
    var chatTemplate: String?

    @Option(name: .customLong("max-tokens"), help: "Token budget per request.")
    var maxTokens: Int = 200

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let name = URL(fileURLWithPath: catalogue).lastPathComponent.replacingOccurrences(of: ".tools.json", with: "")
        let examples = URL(fileURLWithPath: catalogue).deletingLastPathComponent().deletingLastPathComponent()
        let outputsPath = outputs ?? examples.appendingPathComponent("outputs/\(name).jsonl").path
        let promptsPath = prompts ?? examples.appendingPathComponent("prompts/\(name).jsonl").path
        let source = GrammarSource.catalogue(path: catalogue)

        // 1. Compile: catalogue → output schema → grammar IR → byte grammar (median of 20).
        var compileTimes: [Double] = []
        var grammar = try source.byteGrammar()
        for _ in 0..<20 {
            let t0 = MonotonicClock.now()
            grammar = try source.byteGrammar()
            compileTimes.append((MonotonicClock.now() - t0) * 1000)
        }
        let engine = try Engine.load(ModelLocator.resolve(model), chatTemplate: chatTemplate)
        let t0 = MonotonicClock.now()
        let vocabulary = ConstrainedDecoder.vocabulary(of: engine.tokenizer)
        let vocabularyMs = (MonotonicClock.now() - t0) * 1000

        // 2. Full masks along canonical outputs, one per token, as the llguidance peer measures them:
        //    first with the grammar's mask cache empty (a first request), then again (steady state).
        //    Three figures: a grammar with no warm-up; a fresh grammar warmed at load (what a daemon's first
        //    request sees); and steady state (the same grammar again).
        let outputs = try jsonLines(outputsPath, key: "output")
        let unwarmedTimes = try maskTimes(grammar: try source.byteGrammar(), vocabulary: vocabulary, outputs: outputs, engine: engine)
        grammar = try source.byteGrammar()
        let warmStart = MonotonicClock.now()
        let warmEntries = grammar.prepareMasks(for: vocabulary)
        let warmUpMs = (MonotonicClock.now() - warmStart) * 1000
        let coldTimes = try maskTimes(grammar: grammar, vocabulary: vocabulary, outputs: outputs, engine: engine)
        let maskTimes = try maskTimes(grammar: grammar, vocabulary: vocabulary, outputs: outputs, engine: engine)

        // 3. Decoding the sample requests under the grammar, and the same number of tokens without it; then
        //    again with every step computing the whole output head, to show what the restricted head saves.
        let catalogueValue = try ToolCatalogue(contentsOf: catalogue)
        let decoder = ConstrainedDecoder(transformer: engine.transformer, tokenizer: engine.tokenizer)
        let requests = try jsonLines(promptsPath, key: "prompt")
        let (totals, generated, texts) = try decodeAll(requests, decoder: decoder, grammar: grammar, catalogue: catalogueValue, engine: engine)
        let restrictedLimit = decoder.restrictedHeadLimit
        decoder.restrictedHeadLimit = 0
        let (fullTotals, _, fullTexts) = try decodeAll(requests, decoder: decoder, grammar: grammar, catalogue: catalogueValue, engine: engine)
        decoder.restrictedHeadLimit = restrictedLimit
        guard texts == fullTexts else { throw CLIError("the restricted head changed an output: \(zip(texts, fullTexts).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "")") }
        let constrainedRate = Double(generated) / (totals.decodeSeconds + totals.maskSeconds)
        let fullHeadRate = Double(generated) / (fullTotals.decodeSeconds + fullTotals.maskSeconds)
        let restrictedShare = Double(totals.restrictedHeadSteps) / Double(max(1, totals.sampledTokens))
        let unconstrainedRate = try unconstrainedDecodeRate(engine, catalogue: catalogueValue, request: requests.first ?? "hello", tokens: max(16, generated / max(1, requests.count)))

        let p50 = percentile(maskTimes, 0.5), p99 = percentile(maskTimes, 0.99)
        let coldP50 = percentile(coldTimes, 0.5), coldP99 = percentile(coldTimes, 0.99)
        let unwarmedP50 = percentile(unwarmedTimes, 0.5), unwarmedP99 = percentile(unwarmedTimes, 0.99)
        let fastShare = Double(totals.firstCandidateHits) / Double(max(1, totals.sampledTokens))
        let forcedShare = Double(totals.forcedTokens) / Double(max(1, generated))
        if json {
            print(String(format: "{\"catalogue\": %@, \"compile_ms\": %.3f, \"vocabulary_trie_ms\": %.1f, \"masks\": %d, \"mask_us_p50\": %.1f, \"mask_us_p99\": %.1f, \"mask_us_max\": %.1f, \"first_request_mask_us_p50\": %.1f, \"first_request_mask_us_p99\": %.1f, \"warm_up_ms\": %.1f, \"unwarmed_mask_us_p50\": %.1f, \"unwarmed_mask_us_p99\": %.1f, \"requests\": %d, \"generated_tokens\": %d, \"forced_share\": %.3f, \"first_candidate_share\": %.3f, \"full_mask_steps\": %d, \"constrained_tok_s\": %.1f, \"restricted_head_share\": %.3f, \"full_head_constrained_tok_s\": %.1f, \"unconstrained_tok_s\": %.1f}",
                         jsonString(catalogue), percentile(compileTimes.sorted(), 0.5), vocabularyMs, maskTimes.count, p50, p99, maskTimes.last ?? 0, coldP50, coldP99, warmUpMs, unwarmedP50, unwarmedP99,
                         requests.count, generated, forcedShare, fastShare, totals.fullMaskSteps, constrainedRate, restrictedShare, fullHeadRate, unconstrainedRate))
        } else {
            print("catalogue:          \(catalogue)")
            print(String(format: "compile:            %.3f ms (median of 20: schema → grammar → byte grammar); vocabulary trie %.1f ms once per model", percentile(compileTimes.sorted(), 0.5), vocabularyMs))
            print(String(format: "mask warm-up:       %.1f ms at load (%d cache entries: loop iteration starts and every byte position)", warmUpMs, warmEntries))
            print(String(format: "full mask:          p50 %.1f µs, p99 %.1f µs, max %.1f µs (%d masks along %@; steady state)", p50, p99, maskTimes.last ?? 0, maskTimes.count, outputsPath))
            print(String(format: "  first request:    p50 %.1f µs, p99 %.1f µs, max %.1f µs (after the warm-up at load)", coldP50, coldP99, coldTimes.last ?? 0))
            print(String(format: "  without warm-up:  p50 %.1f µs, p99 %.1f µs, max %.1f µs (the grammar's mask cache empty)", unwarmedP50, unwarmedP99, unwarmedTimes.last ?? 0))
            print(String(format: "steps:              %d tokens for %d requests; %.1f%% inserted by jump-forward; %.1f%% of sampled steps settled by the first candidate; %d full masks",
                         generated, requests.count, forcedShare * 100, fastShare * 100, totals.fullMaskSteps))
            print(String(format: "decode:             %.1f tokens/s constrained (grammar work included) vs %.1f tokens/s unconstrained = %.2fx",
                         constrainedRate, unconstrainedRate, constrainedRate / unconstrainedRate))
            print(String(format: "restricted head:    %.1f%% of sampled steps computed only the allowed tokens' logits; with the whole head every step %.1f tokens/s (%.2fx slower), outputs identical",
                         restrictedShare * 100, fullHeadRate, constrainedRate / fullHeadRate))
        }
    }

    /// Decodes every request under `grammar` from a fresh cache: summed counts and times, tokens, outputs.
    private func decodeAll(_ requests: [String], decoder: ConstrainedDecoder, grammar: ByteGrammar, catalogue: ToolCatalogue,
                           engine: Engine) throws -> (ConstrainedResult, Int, [String]) {
        var totals = ConstrainedResult()
        var generated = 0
        var texts: [String] = []
        for request in requests {
            let ids = PromptRenderer.encode(catalogue: catalogue, input: request, template: engine.chatTemplate, tokenizer: engine.tokenizer)
            let cache = KVCache(config: engine.model.config, capacity: ids.count + maxTokens + 1)
            let r = try decoder.decode(prompt: ids, grammar: grammar, maxTokens: maxTokens, cache: cache)
            totals.sampledTokens += r.sampledTokens; totals.forcedTokens += r.forcedTokens
            totals.firstCandidateHits += r.firstCandidateHits; totals.fullMaskSteps += r.fullMaskSteps
            totals.restrictedHeadSteps += r.restrictedHeadSteps
            totals.decodeSeconds += r.decodeSeconds; totals.maskSeconds += r.maskSeconds
            generated += r.ids.count
            texts.append(r.text)
        }
        return (totals, generated, texts)
    }

    /// Full-mask times in µs, one per token of each output, sorted.
    private func maskTimes(grammar: ByteGrammar, vocabulary: TokenVocabulary, outputs: [String], engine: Engine) throws -> [Double] {
        var times: [Double] = []
        var mask = TokenMask(count: 0)
        for output in outputs {
            let matcher = GrammarMatcher(grammar: grammar)
            for id in engine.tokenizer.encode(output, parseSpecial: false, addSpecial: false) {
                let t = MonotonicClock.now()
                matcher.allowedTokens(vocabulary, into: &mask)
                times.append((MonotonicClock.now() - t) * 1e6)
                guard mask[id], matcher.accept(vocabulary.tokens[id]) else {
                    throw CLIError("canonical output refused by the grammar at token \(id): \(output)")
                }
            }
        }
        return times.sorted()
    }

    /// Greedy tokens/s without a grammar, after the same prompt.
    private func unconstrainedDecodeRate(_ engine: Engine, catalogue: ToolCatalogue, request: String, tokens: Int) throws -> Double {
        let ids = PromptRenderer.encode(catalogue: catalogue, input: request, template: engine.chatTemplate, tokenizer: engine.tokenizer)
        let cache = KVCache(config: engine.model.config, capacity: ids.count + tokens + 1)
        try engine.transformer.evaluate(ids, cache: cache)
        let vocabularySize = engine.model.config.vocabularySize
        let t0 = MonotonicClock.now()
        for _ in 0..<tokens {
            let next = Sampler.argmax(engine.transformer.logits, count: vocabularySize)
            try engine.transformer.evaluate([next], cache: cache)
        }
        return Double(tokens) / (MonotonicClock.now() - t0)
    }

    private func jsonLines(_ path: String, key: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIError("\(path): cannot read the file")
        }
        return try text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { line in
            guard let value = try? JSONParser.parse(String(line)), let field = value[key]?.stringValue else {
                throw CLIError("\(path): each line must be a JSON object with a string \"\(key)\"")
            }
            return field
        }
    }

    private func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))]
    }
}
