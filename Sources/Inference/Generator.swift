// Greedy decoding on top of the forward pass.

/// A candidate next token and its logit.
public struct TokenLogit: Sendable, Equatable {
    /// Token id.
    public let id: Int
    /// Raw logit.
    public let logit: Float
    /// A candidate with `id` and `logit`.
    public init(id: Int, logit: Float) { self.id = id; self.logit = logit }
}

/// Picks tokens from logits.
public enum Sampler {
    /// The id of the largest logit (the lowest id on an exact tie).
    public static func argmax(_ logits: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        var bestValue = logits[0]
        for i in 1..<count where logits[i] > bestValue { best = i; bestValue = logits[i] }
        return best
    }

    /// The `k` largest logits, largest first (ties by lower id).
    public static func topK(_ logits: UnsafePointer<Float>, count: Int, k: Int) -> [TokenLogit] {
        var top: [TokenLogit] = []
        top.reserveCapacity(k + 1)
        for i in 0..<count {
            let value = logits[i]
            if top.count == k, let last = top.last, value <= last.logit { continue }
            var at = top.count
            while at > 0 && top[at - 1].logit < value { at -= 1 }
            top.insert(TokenLogit(id: i, logit: value), at: at)
            if top.count > k { top.removeLast() }
        }
        return top
    }
}

/// What a greedy run produced.
public struct GenerationResult: Sendable {
    /// Generated ids, including the end-of-generation token that stopped decoding, if any.
    public var ids: [Int] = []
    /// The ten largest logits of the first generated step.
    public var firstStepTop: [TokenLogit] = []
    /// True when an end-of-generation token stopped decoding (false: the token budget ran out).
    public var stoppedAtEndToken = false
    /// Seconds spent on the prompt (prefill).
    public var prefillSeconds: Double = 0
    /// Seconds spent generating after the first token.
    public var decodeSeconds: Double = 0
}

/// Greedy decoding: argmax at every step until an end-of-generation token or `maxTokens`.
public struct GreedyGenerator {
    /// The forward pass to drive.
    public let transformer: Transformer
    /// Token ids that end generation (kept in the output).
    public let stopTokens: Set<Int>

    /// A generator over `transformer` that stops at any of `stopTokens`.
    public init(transformer: Transformer, stopTokens: Set<Int>) {
        self.transformer = transformer
        self.stopTokens = stopTokens
    }

    /// Evaluates `prompt` from the cache's current position and generates up to `maxTokens` tokens,
    /// calling `onToken` with each one as soon as it is chosen.
    public func generate(prompt: [Int], maxTokens: Int, cache: KVCache,
                         onToken: (Int) -> Void = { _ in }) throws(InferenceError) -> GenerationResult {
        var result = GenerationResult()
        let vocabulary = transformer.model.config.vocabularySize
        let start = MonotonicClock.now()
        try transformer.evaluate(prompt, cache: cache)
        result.prefillSeconds = MonotonicClock.now() - start
        result.firstStepTop = Sampler.topK(transformer.logits, count: vocabulary, k: 10)
        let decodeStart = MonotonicClock.now()
        while result.ids.count < maxTokens {
            let next = Sampler.argmax(transformer.logits, count: vocabulary)
            result.ids.append(next)
            onToken(next)
            if stopTokens.contains(next) { result.stoppedAtEndToken = true; break }
            if result.ids.count == maxTokens { break }
            try transformer.evaluate([next], cache: cache)
        }
        result.decodeSeconds = MonotonicClock.now() - decodeStart
        return result
    }
}
