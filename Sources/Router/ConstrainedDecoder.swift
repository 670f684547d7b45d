// Greedy decoding under a grammar: every emitted token keeps the output inside the grammar.
//
// Per step, in order:
//   1. Jump-forward: when the grammar forces the next bytes (`{"tool":"`, the rest of a tool name,
//      property keys), they are tokenised and fed to the model as one batch, with no sampling.
//   2. Greedy fast path: candidates are tried in descending logit order and the first the grammar
//      accepts is taken — the same answer a full mask would give, usually after one check.
//   3. Fallback: after `fastPathLimit` rejections, the full token mask picks the best allowed token.
// Restricted head: the output head is most of a step's memory traffic with a large vocabulary (Gemma 3's
// is 262,144 rows × 640). When the grammar allows few tokens (structure, enum values, digits, spans of the
// request), the mask is taken first and only those tokens' logits are computed; the choice is the same.
// Budget steering: a token is taken only if the fewest bytes that complete the output afterwards fit
// in the tokens left (a byte costs at most one token), so decoding always ends in a complete output
// within `maxTokens` — it steers to the shortest completion when the budget gets tight.

import Grammar
import Inference
import TokenMatcher
import Tokenizer

/// Why constrained decoding stopped without a complete output.
public enum ConstrainedDecodingError: Error, Equatable, CustomStringConvertible {
    /// The model's forward pass failed (e.g. the KV cache is full).
    case inference(InferenceError)
    /// The token budget cannot hold even the shortest output the grammar allows.
    case budgetTooSmall(budget: Int, shortestOutputBytes: Int)
    /// The token budget ran out before the grammar was satisfied; nothing partial is returned.
    /// (Budget steering makes this unreachable unless the vocabulary lacks a needed byte.)
    case budgetExhausted(tokens: Int, partial: String)
    /// No token in the vocabulary can continue the output (the grammar and vocabulary disagree).
    case noAllowedToken(after: String)
    /// The caller's stop check (deadline passed, client gone) ended decoding early.
    case stopped
    /// No output of the grammar has its `x-from-input` values in the request: every answer it allows
    /// (a forced tool, say) needs a value the request does not contain.
    case ungrounded

    public var description: String {
        switch self {
        case .inference(let e): return "inference failed: \(e)"
        case .budgetTooSmall(let budget, let bytes):
            return "a budget of \(budget) tokens cannot hold the shortest valid output (\(bytes) bytes)"
        case .budgetExhausted(let n, let partial): return "token budget of \(n) ran out before the output was complete (so far: \(partial.debugDescription))"
        case .noAllowedToken(let after): return "no token can continue the output after \(after.debugDescription)"
        case .stopped: return "decoding was stopped (deadline passed or request cancelled)"
        case .ungrounded: return "every answer the grammar allows needs an x-from-input value that the request does not contain"
        }
    }
}

/// What one constrained decode produced, with its per-phase counts and times.
public struct ConstrainedResult: Sendable {
    /// The complete output text (matches the grammar).
    public var text: String = ""
    /// Generated ids (sampled and jump-forward), excluding any end-of-generation token.
    public var ids: [Int] = []
    /// Tokens chosen by sampling.
    public var sampledTokens = 0
    /// Tokens inserted by jump-forward.
    public var forcedTokens = 0
    /// Sampling steps settled by the first candidate (no mask needed).
    public var firstCandidateHits = 0
    /// Sampling steps that needed the full mask.
    public var fullMaskSteps = 0
    /// Sampling steps whose logits were computed for the allowed tokens only.
    public var restrictedHeadSteps = 0
    /// Seconds in the forward pass over the prompt.
    public var prefillSeconds: Double = 0
    /// Seconds in forward passes after the prompt.
    public var decodeSeconds: Double = 0
    /// Seconds in grammar work (checks, masks, forced bytes).
    public var maskSeconds: Double = 0

    /// An empty result, to fill in or to sum others into.
    public init() {}
}

/// Drives a `Transformer` greedily under a compiled grammar.
public final class ConstrainedDecoder {
    /// The forward pass.
    public let transformer: Transformer
    /// The tokenizer (for jump-forward tokenisation and text).
    public let tokenizer: BPETokenizer
    /// The vocabulary as bytes, with its trie.
    public let vocabulary: TokenVocabulary
    /// Candidates tried in logit order before falling back to the full mask.
    public var fastPathLimit = 32
    /// Shortest forced run worth a jump-forward batch.
    public var jumpForwardMinimumBytes = 2
    /// Steps whose grammar allows at most this many tokens compute only those tokens' logits (0: always
    /// the whole head). Default: half the vocabulary, past which the mask costs more than it saves.
    public var restrictedHeadLimit: Int
    private var mask = TokenMask(count: 0)
    private var candidates: [Float] = []

    /// A decoder over `transformer` whose vocabulary comes from `tokenizer`.
    public init(transformer: Transformer, tokenizer: BPETokenizer) {
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.vocabulary = Self.vocabulary(of: tokenizer)
        self.restrictedHeadLimit = transformer.model.config.vocabularySize / 2
    }

    /// The tokenizer's vocabulary as the matcher sees it: control tokens have no bytes.
    public static func vocabulary(of tokenizer: BPETokenizer) -> TokenVocabulary {
        let tokens = (0..<tokenizer.vocabularySize).map { id -> [UInt8] in
            tokenizer.isControl(id) ? [] : ((try? tokenizer.tokenBytes(id)) ?? [])
        }
        return TokenVocabulary(tokens: tokens, endOfGeneration: tokenizer.endOfGenerationIDs)
    }

    /// Evaluates `prompt` at the cache's position and decodes under `grammar` until the output is
    /// complete (the grammar accepts and nothing can follow, or the model chose an end token there).
    /// `request` is this request's text as an automaton: the grammar's `x-from-input` strings can then
    /// only be spans of it. It is passed per call, never kept: the decoder serves every request.
    public func decode(prompt: [Int], grammar: ByteGrammar, maxTokens: Int, cache: KVCache,
                       request: RequestSpans? = nil) throws(ConstrainedDecodingError) -> ConstrainedResult {
        try decode(prompt: prompt, grammar: grammar, maxTokens: maxTokens, cache: cache, request: request,
                   adapter: transformer.adapter, shouldStop: nil)
    }

    /// `decode` with this request's state passed in, none of it kept on the decoder or the transformer:
    /// `adapter` (nil: the base model) is the LoRA adapter every forward pass runs under, and `shouldStop`
    /// is checked before every step — returning true ends decoding with `.stopped` (deadlines, cancellation).
    public func decode(prompt: [Int], grammar: ByteGrammar, maxTokens: Int, cache: KVCache, request: RequestSpans?,
                       adapter: LoRAAdapter?, shouldStop: (() -> Bool)?) throws(ConstrainedDecodingError) -> ConstrainedResult {
        guard grammar.minimumLength <= maxTokens else {
            throw .budgetTooSmall(budget: maxTokens, shortestOutputBytes: grammar.minimumLength)
        }
        var result = ConstrainedResult()
        let matcher = GrammarMatcher(grammar: grammar, spans: request)
        // Known before the first token: say so rather than fail later with no allowed token.
        if request != nil && matcher.state.isDead { throw .ungrounded }
        var bytes: [UInt8] = []
        let vocabularySize = transformer.model.config.vocabularySize
        // Bytes the grammar forces before the model chooses anything (`{"tool":"`) are tokenised now and
        // evaluated in the same batch as the prompt: one forward pass fewer than feeding them after it.
        var t0 = MonotonicClock.now()
        let leading = jumpForward(matcher, budget: maxTokens)
        result.maskSeconds += MonotonicClock.now() - t0
        for id in leading { bytes += vocabulary.tokens[id] }
        result.ids += leading
        result.forcedTokens += leading.count
        t0 = MonotonicClock.now()
        let finished: Bool
        do { finished = try transformer.evaluate(prompt + leading, cache: cache, adapter: adapter, shouldStop: shouldStop, computeLogits: false) } catch {
            throw .inference(error)
        }
        guard finished else { throw .stopped }
        result.prefillSeconds = MonotonicClock.now() - t0
        var afterPrompt = true

        while true {
            if matcher.isAccepting && matcher.state.isComplete { break }
            if let shouldStop, shouldStop() { throw .stopped }
            guard result.ids.count < maxTokens else {
                throw .budgetExhausted(tokens: maxTokens, partial: String(decoding: bytes, as: UTF8.self))
            }
            // 1. Jump-forward.
            t0 = MonotonicClock.now()
            let forcedIDs = jumpForward(matcher, budget: maxTokens - result.ids.count)
            result.maskSeconds += MonotonicClock.now() - t0
            if !forcedIDs.isEmpty {
                for id in forcedIDs { bytes += vocabulary.tokens[id] }
                result.ids += forcedIDs
                result.forcedTokens += forcedIDs.count
                t0 = MonotonicClock.now()
                do { _ = try transformer.evaluate(forcedIDs, cache: cache, adapter: adapter, shouldStop: nil, computeLogits: false) } catch { throw .inference(error) }
                result.decodeSeconds += MonotonicClock.now() - t0
                afterPrompt = false
                continue
            }
            // 2-3. Choose a token.
            t0 = MonotonicClock.now()
            var headSeconds = 0.0
            let choice = choose(matcher, count: vocabularySize, remaining: maxTokens - result.ids.count, result: &result,
                                headSeconds: &headSeconds)
            result.maskSeconds += MonotonicClock.now() - t0 - headSeconds
            // The head's time is the forward pass's: the prompt's when no token was decoded yet.
            if afterPrompt { result.prefillSeconds += headSeconds } else { result.decodeSeconds += headSeconds }
            afterPrompt = false
            guard let id = choice else { throw .noAllowedToken(after: String(decoding: bytes, as: UTF8.self)) }
            if vocabulary.endOfGeneration.contains(id) { break }
            matcher.accept(vocabulary.tokens[id])
            bytes += vocabulary.tokens[id]
            result.ids.append(id)
            result.sampledTokens += 1
            if matcher.isAccepting && matcher.state.isComplete { break }
            t0 = MonotonicClock.now()
            do { _ = try transformer.evaluate([id], cache: cache, adapter: adapter, shouldStop: nil, computeLogits: false) } catch { throw .inference(error) }
            result.decodeSeconds += MonotonicClock.now() - t0
        }
        result.text = String(decoding: bytes, as: UTF8.self)
        return result
    }

    /// True when `id` may come next and the output can still complete in the `remaining − 1` tokens after it.
    private func fits(_ id: Int, _ matcher: GrammarMatcher, remaining: Int) -> Bool {
        if vocabulary.endOfGeneration.contains(id) { return matcher.isAccepting }
        let bytes = vocabulary.tokens[id]
        guard !bytes.isEmpty, let cost = matcher.completionCost(after: bytes) else { return false }
        return cost <= remaining - 1
    }

    /// The highest-logit token the grammar allows that keeps the output completable within the budget
    /// (ties: the lower id), computing the logits it needs: the allowed tokens' rows when they are few,
    /// else the whole head. Head rows are computed alike either way, so the choice does not depend on it.
    /// `headSeconds` gets the time spent computing logits.
    private func choose(_ matcher: GrammarMatcher, count: Int, remaining: Int, result: inout ConstrainedResult,
                        headSeconds: inout Double) -> Int? {
        var maskReady = false
        if restrictedHeadLimit > 0 {
            matcher.allowedTokens(vocabulary, into: &mask)
            maskReady = true
            if mask.allowedCount <= restrictedHeadLimit {
                result.restrictedHeadSteps += 1
                let allowed = mask.allowedIDs
                let t0 = MonotonicClock.now()
                transformer.computeLogits(only: allowed)
                headSeconds = MonotonicClock.now() - t0
                return bestFitting(allowed, values: transformer.logits, matcher, remaining: remaining)
            }
        }
        let t0 = MonotonicClock.now()
        transformer.computeLogits(only: nil)
        headSeconds = MonotonicClock.now() - t0
        let logits = transformer.logits
        // Most steps are settled by the top candidate: check it on the logits themselves, and copy them
        // (into a buffer reused across steps) only when candidates must be struck out.
        let top = Sampler.argmax(logits, count: count)
        if fits(top, matcher, remaining: remaining) {
            result.firstCandidateHits += 1
            return top
        }
        if candidates.count != count { candidates = [Float](repeating: 0, count: count) }
        candidates.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: logits, count: count) }
        candidates[top] = -.infinity
        for _ in 1..<max(2, fastPathLimit) {
            let id = candidates.withUnsafeBufferPointer { Sampler.argmax($0.baseAddress!, count: count) }
            if candidates[id] == -.infinity { return nil }
            if fits(id, matcher, remaining: remaining) { return id }
            candidates[id] = -.infinity
        }
        result.fullMaskSteps += 1
        if !maskReady { matcher.allowedTokens(vocabulary, into: &mask) }
        let allowed = mask.allowedIDs.filter { candidates[$0] > -.infinity }
        return candidates.withUnsafeBufferPointer { bestFitting(allowed, values: $0.baseAddress!, matcher, remaining: remaining) }
    }

    /// The id of `ids` with the highest value that fits (ties: the lower id, as `Sampler.argmax`). The
    /// best few are found by scanning; the rest are sorted only when those all fail.
    private func bestFitting(_ ids: [Int], values: UnsafePointer<Float>, _ matcher: GrammarMatcher, remaining: Int) -> Int? {
        func before(_ a: Int, _ b: Int) -> Bool { values[a] > values[b] || (values[a] == values[b] && a < b) }
        var ids = ids
        for _ in 0..<4 {
            guard var best = ids.indices.first else { return nil }
            for k in ids.indices.dropFirst() where before(ids[k], ids[best]) { best = k }
            if fits(ids[best], matcher, remaining: remaining) { return ids[best] }
            ids.swapAt(best, ids.count - 1)
            ids.removeLast()
        }
        ids.sort(by: before)
        return ids.first { fits($0, matcher, remaining: remaining) }
    }

    /// Tokens for the bytes the grammar forces next, already accepted into `matcher`. The last token
    /// of the canonical tokenisation is held back (a longer token might span the boundary), unless
    /// the forced run completes the output.
    private func jumpForward(_ matcher: GrammarMatcher, budget: Int) -> [Int] {
        let forced = matcher.forcedBytes()
        guard forced.count >= jumpForwardMinimumBytes, let text = String(validating: forced, as: UTF8.self) else { return [] }
        var ids = tokenizer.encode(text, parseSpecial: false, addSpecial: false)
        let completes: Bool = {
            guard matcher.canAccept(forced) else { return false }
            matcher.accept(forced)
            defer { matcher.rollback(1) }
            return matcher.state.isComplete
        }()
        if !completes { ids.removeLast() }
        ids = Array(ids.prefix(budget))
        var accepted: [Int] = []
        for id in ids {
            guard matcher.accept(vocabulary.tokens[id]) else { break }
            accepted.append(id)
        }
        return accepted
    }
}
