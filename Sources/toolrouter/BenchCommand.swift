// `toolrouter bench engine`: load time, prefill and decode speed, peak memory.

import ArgumentParser
import Foundation
import GGUF
import Inference
import Tokenizer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (run a release build).",
                                                    subcommands: [EngineBench.self, GrammarBench.self, RouteBench.self, TokenizerBench.self])
}

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Model load time, prefill tokens/s on a ~600-token prompt, decode tokens/s over 64 tokens, peak RSS.")

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Option(name: .customLong("chat-template"), help: "Chat template: chatml, llama3 or gemma (needed for a model file without one).")
    var chatTemplate: String?

    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for the prefill figure.")
    var promptTokens: Int = 600

    @Option(name: .customLong("decode-tokens"), help: "Tokens generated for the decode figure.")
    var decodeTokens: Int = 64

    @Option(help: "Repetitions; the best is reported (shared machines are noisy).")
    var repeats: Int = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var adapterOptions: AdapterOptions

    func run() throws {
        let path = try ModelLocator.resolve(model)
        let loadStart = MonotonicClock.now()
        let base = try Engine.load(path, chatTemplate: chatTemplate)
        let loadSeconds = MonotonicClock.now() - loadStart
        let adapterStart = MonotonicClock.now()
        let adapter = try adapterOptions.load(for: base.model)
        let engine = try base.applying(adapter, merge: adapterOptions.merge)
        let adapterSeconds = MonotonicClock.now() - adapterStart
        let adapterMode = adapterOptions.adapter == nil ? "none" : adapterOptions.merge ? "merged" : "unmerged"

        let prompt = Array(benchPromptTokens(engine.tokenizer).prefix(promptTokens))
        guard prompt.count == promptTokens else { throw CLIError("bench prompt too short: \(prompt.count) tokens") }
        let cache = KVCache(config: engine.model.config, capacity: promptTokens + decodeTokens + 1)
        var prefillBest = Double.infinity, decodeBest = Double.infinity, headBest = Double.infinity
        let headRepeats = 16
        let head = engine.model.output
        let headBytes = Double(head.rows * head.rowBytes)
        for _ in 0..<max(1, repeats) {
            cache.reset()
            let t0 = MonotonicClock.now()
            try engine.transformer.evaluate(prompt, cache: cache)
            prefillBest = min(prefillBest, MonotonicClock.now() - t0)
            var next = Sampler.argmax(engine.transformer.logits, count: engine.model.config.vocabularySize)
            let t1 = MonotonicClock.now()
            for _ in 0..<decodeTokens {
                try engine.transformer.evaluate([next], cache: cache)
                next = Sampler.argmax(engine.transformer.logits, count: engine.model.config.vocabularySize)
            }
            decodeBest = min(decodeBest, MonotonicClock.now() - t1)
            // The output head on its own (every row, as decode computes it): the largest single read of a step.
            let t2 = MonotonicClock.now()
            for _ in 0..<headRepeats { engine.transformer.computeLogits(only: nil) }
            headBest = min(headBest, (MonotonicClock.now() - t2) / Double(headRepeats))
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMB = Double(usage.ru_maxrss) / 1024
        let prefillRate = Double(promptTokens) / prefillBest, decodeRate = Double(decodeTokens) / decodeBest
        if json {
            print(String(format: "{\"model\": %@, \"threads\": %d, \"load_ms\": %.1f, \"adapter\": %@, \"adapter_mode\": \"%@\", \"adapter_ms\": %.1f, \"prompt_tokens\": %d, \"prefill_tok_s\": %.1f, \"decode_tokens\": %d, \"decode_tok_s\": %.1f, \"head_ms\": %.3f, \"head_gb_s\": %.1f, \"peak_rss_mb\": %.1f}",
                         jsonString(path), Parallel.lanes, loadSeconds * 1000, adapterOptions.adapter.map(jsonString) ?? "null", adapterMode,
                         adapterSeconds * 1000, promptTokens, prefillRate, decodeTokens, decodeRate, headBest * 1000, headBytes / headBest / 1e9, peakMB))
        } else {
            print("model:        \(path)")
            print("threads:      \(Parallel.lanes)")
            print(String(format: "load:         %.1f ms (map, check tensors, tokenizer, scratch)", loadSeconds * 1000))
            if let adapter {
                print(String(format: "adapter:      %@ (%@; %.1f ms to load%@)", adapter.summary, adapterMode, adapterSeconds * 1000,
                             adapterOptions.merge ? " and merge" : ""))
            }
            print(String(format: "prefill:      %.1f tokens/s (%d tokens, best of %d)", prefillRate, promptTokens, repeats))
            print(String(format: "decode:       %.1f tokens/s (%d tokens after the prompt, best of %d)", decodeRate, decodeTokens, repeats))
            print(String(format: "output head:  %.2f ms a token, %.1f GB/s (%d × %d %@, best of %d × %d)", headBest * 1000, headBytes / headBest / 1e9,
                         head.rows, head.cols, "\(head.type)", repeats, headRepeats))
            print(String(format: "peak RSS:     %.1f MB", peakMB))
        }
    }

    /// A long ChatML prompt of ordinary English, tokenized; the caller cuts it to length.
    private func benchPromptTokens(_ tokenizer: BPETokenizer) -> [Int] {
        let paragraph = """
        The support desk receives requests about orders, refunds, shipping addresses, passwords and \
        invoices. Each request names a customer, sometimes an order number such as ORD-55821, and asks \
        for one action: look something up, change something, or explain a policy. A good router reads \
        the request once, picks the single tool that does the job, and fills in its arguments exactly. \
        When nothing fits, it says so plainly instead of guessing.
        """
        let body = Array(repeating: paragraph, count: 12).joined(separator: "\n")
        let text = "<|im_start|>system\nYou route requests to tools.<|im_end|>\n<|im_start|>user\n\(body)<|im_end|>\n<|im_start|>assistant\n"
        return tokenizer.encode(text, parseSpecial: true)
    }
}
