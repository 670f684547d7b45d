// The request pipeline: input → prompt → tokens → constrained decode → parse → validate.
//
// Each catalogue is prepared once: its grammar compiled and its token masks warmed, and the KV state of
// its system prompt (the catalogue rendering, identical for every request) computed once and kept as a
// prefix cache. A request then only prefills its own tokens. Each catalogue decodes with its own LoRA
// adapter (or none), applied unmerged, and its prefix state is computed under that adapter, so two
// adapters never share a prefix state.

import Dispatch
import Inference
import JSON
import SchemaGrammar
import Synchronization
import TokenMatcher
import Tokenizer
import ToolCalls

/// Why a request produced no valid call.
public enum RouteError: Error, CustomStringConvertible {
    /// No catalogue of that name is loaded (or none was named while several are).
    case unknownCatalogue(String?, loaded: [String])
    /// The input is empty.
    case emptyInput
    /// `tool_choice` names a tool the catalogue does not have.
    case unknownTool(String, catalogue: String)
    /// A tool choice's grammar could not be compiled.
    case grammar(String)
    /// The input and the catalogue prefix do not fit in the context, or leave no room for the answer.
    case inputTooLong(tokens: Int, capacity: Int)
    /// Decoding failed (budget, inference).
    case decoding(ConstrainedDecodingError)
    /// The decoded call does not parse or does not fit its schema; it must never be dispatched.
    case invalidCall(raw: String, problems: [String])

    public var description: String {
        switch self {
        case .unknownCatalogue(let name, let loaded):
            let list = loaded.joined(separator: ", ")
            guard let name else { return "no catalogue named, and several are loaded (\(list)): name one" }
            return "unknown catalogue '\(name)'; loaded: \(list)"
        case .emptyInput: return "the input is empty"
        case .unknownTool(let name, let catalogue): return "catalogue '\(catalogue)' has no tool '\(name)'"
        case .grammar(let problem): return "grammar compilation failed: \(problem)"
        case .inputTooLong(let tokens, let capacity): return "the prompt needs \(tokens) tokens; the context holds \(capacity)"
        case .decoding(let error): return "decoding failed: \(error)"
        case .invalidCall(let raw, let problems): return "the decoded call is invalid (\(problems.joined(separator: "; "))): \(raw)"
        }
    }
}

/// Where a request's time went, in milliseconds, with its token counts.
public struct RouteTimings: Sendable, Equatable {
    /// Waiting for the inference worker (set by the daemon).
    public var queueMs = 0.0
    /// Evaluating the request's own prompt tokens (the catalogue prefix comes from the cache).
    public var prefillMs = 0.0
    /// Forward passes after the prompt.
    public var decodeMs = 0.0
    /// Grammar work: candidate checks, masks, forced bytes.
    public var maskMs = 0.0
    /// Parsing and validating the call.
    public var validateMs = 0.0
    /// Calling the handler (set by the daemon).
    public var dispatchMs = 0.0
    /// Everything, end to end.
    public var totalMs = 0.0
    /// Prompt tokens in all (prefix + request).
    public var promptTokens = 0
    /// Prompt tokens served from the prefix cache.
    public var cachedTokens = 0
    /// Tokens generated (sampled and jump-forward).
    public var generatedTokens = 0

    /// Zero timings.
    public init() {}
}

/// A routed request: the validated call, the model's raw output, and the timings.
public struct RouteResult: Sendable {
    /// The call, parsed and validated against its tool's schema.
    public let call: ToolCall
    /// The decoded text as the model produced it.
    public let raw: String
    /// Per-phase times and token counts.
    public var timings: RouteTimings
}

/// One request to route: the catalogue (nil when only one is loaded), the user's text, and which
/// answers are allowed.
public struct RouteRequest: Sendable, Equatable {
    /// The catalogue's name; nil picks the only one loaded. Ignored when `adHoc` is set.
    public var catalogue: String?
    /// The natural-language request.
    public var input: String
    /// Which answers the grammar allows.
    public var toolChoice: ToolChoice
    /// Tools sent with the request itself (OpenAI's inline `tools`), routed with the base model.
    public var adHoc: AdHocCatalogue?

    /// A request for `input`.
    public init(catalogue: String? = nil, input: String, toolChoice: ToolChoice = .auto, adHoc: AdHocCatalogue? = nil) {
        self.catalogue = catalogue
        self.input = input
        self.toolChoice = toolChoice
        self.adHoc = adHoc
    }
}

/// A catalogue that came with a request rather than from the configuration, keyed by its content hash:
/// requests sending the same tools share one compiled grammar and prefix state.
public struct AdHocCatalogue: Sendable, Equatable {
    /// The catalogue's content hash (`CatalogueFingerprint.sha256`).
    public let key: String
    /// Its tools.
    public let catalogue: ToolCatalogue

    /// The ad-hoc catalogue of `catalogue`.
    public init(_ catalogue: ToolCatalogue) {
        self.catalogue = catalogue
        self.key = CatalogueFingerprint(catalogue: catalogue).sha256
    }

    /// The name it is served under (in errors and logs): `adhoc-` and the hash's first 12 digits.
    public var name: String { "adhoc-" + key.prefix(12) }

    public static func == (a: AdHocCatalogue, b: AdHocCatalogue) -> Bool { a.key == b.key }
}

/// A catalogue ready to serve: tools, compiled grammar, and the KV state of its prompt prefix.
public final class PreparedCatalogue {
    /// The catalogue's name in requests.
    public let name: String
    /// Its tools.
    public let catalogue: ToolCatalogue
    /// The output grammar (`tool_choice` auto), compiled with its token masks warmed.
    public let grammar: ByteGrammar
    /// Grammars of the other tool choices, compiled on first use.
    private var choiceGrammars: [ToolChoice: ByteGrammar] = [:]
    /// The LoRA adapter this catalogue decodes with (nil: the base model). The prefix KV state was
    /// computed under it, so a prefix is never reused across adapters.
    public let adapter: LoRAAdapter?
    /// Tokens of the system turn, then of the user turn's opening (`<|im_start|>user\n`).
    let prefixIDs: [Int]
    /// How many of `prefixIDs` are the system turn (the rest open the user turn).
    let systemCount: Int
    /// KV state after `prefixIDs`, copied into the working cache for each request.
    let prefixCache: KVCache

    init(name: String, catalogue: ToolCatalogue, grammar: ByteGrammar, adapter: LoRAAdapter?, prefixIDs: [Int], systemCount: Int,
         prefixCache: KVCache) {
        self.name = name
        self.catalogue = catalogue
        self.grammar = grammar
        self.adapter = adapter
        self.prefixIDs = prefixIDs
        self.systemCount = systemCount
        self.prefixCache = prefixCache
    }

    /// The grammar of `choice`: the warmed `auto` grammar, or one compiled (once) for the choice.
    func grammar(for choice: ToolChoice) throws(RouteError) -> ByteGrammar {
        if choice == .auto { return grammar }
        if case .tool(let tool) = choice, catalogue.tool(named: tool) == nil { throw .unknownTool(tool, catalogue: name) }
        if let compiled = choiceGrammars[choice] { return compiled }
        do {
            let compiled = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue, choice: choice)))
            choiceGrammars[choice] = compiled
            return compiled
        } catch {
            throw .grammar("tool_choice \(choice): \(error)")
        }
    }

    /// A request's tokens after the prefix, split into how many prefix tokens the cache serves and the
    /// tokens left to prefill. Normally the user turn's opening comes from the cache too; when the input's
    /// first characters merge with its last ones into other tokens, the cache serves the tokens up to
    /// where they differ (a position's KV state depends only on the tokens up to it).
    func split(requestIDs: [Int]) -> (cached: Int, rest: ArraySlice<Int>) {
        let opening = prefixIDs[systemCount...]
        let common = zip(opening, requestIDs).prefix { $0 == $1 }.count
        return (systemCount + common, requestIDs.dropFirst(common))
    }
}

/// Token-mask warming taken out of a pipeline's load (`RequestPipeline.maskWarmUp()`): the catalogues'
/// grammars and the vocabulary, nothing else of the pipeline.
public struct MaskWarmUp: Sendable {
    /// The catalogues' names and `auto` grammars, in load order.
    public let grammars: [(name: String, grammar: ByteGrammar)]
    let vocabulary: TokenVocabulary

    /// Warms every grammar in turn; returns the cache entries computed (0 when all were warm).
    @discardableResult
    public func run() -> Int {
        grammars.reduce(0) { $0 + $1.grammar.prepareMasks(for: vocabulary) }
    }
}

/// Routes requests on one model. Not thread-safe: the daemon runs it on its single inference worker.
public final class RequestPipeline {
    /// The tokenizer and chat template of the model.
    public let tokenizer: BPETokenizer
    public let template: ChatTemplate
    /// Loaded catalogues by name, in load order.
    public private(set) var catalogues: [PreparedCatalogue] = []
    /// Token budget per request.
    public let maxTokens: Int
    /// Most bytes one catalogue's warmed token masks may take; `load` refuses a catalogue past it.
    public var maskCacheBudgetBytes = RequestPipeline.defaultMaskCacheBudgetBytes
    /// Ad-hoc catalogues (a request's inline tools) kept compiled at most; each holds a grammar, its
    /// warmed masks and a prefix state.
    public var maxAdHocCatalogues = 8
    /// Compiled ad-hoc catalogues by content hash, least recently used first.
    private var adHocCache: [(key: String, prepared: PreparedCatalogue)] = []
    /// Grammars `precompile` compiled and warmed, by the catalogue's content hash, until a `load` takes them.
    private var precompiled: [String: ByteGrammar] = [:]
    /// Whether `load` warms a catalogue's token masks before it returns. When false, the masks are
    /// computed as requests need them, and `maskWarmUp()` hands the warming to another thread: a
    /// daemon is ready sooner (with Gemma 3's 262,144 tokens warming is ~0.5 s of each catalogue's load).
    public var warmsMasksOnLoad = true
    let transformer: Transformer
    let decoder: ConstrainedDecoder
    let cache: KVCache

    /// A pipeline over `model` with a KV cache of `contextTokens` positions.
    public init(model: ModelWeights, tokenizer: BPETokenizer, template: ChatTemplate, maxTokens: Int = 200, contextTokens: Int = 2048) {
        self.tokenizer = tokenizer
        self.template = template
        self.maxTokens = maxTokens
        transformer = Transformer(model: model)
        decoder = ConstrainedDecoder(transformer: transformer, tokenizer: tokenizer)
        cache = KVCache(config: model.config, capacity: contextTokens)
    }

    /// Compiles `catalogue`'s grammar, warms its masks and computes its prefix cache under `adapter`.
    /// Throws `CatalogueLoadError.maskBudgetExceeded` before warming when the masks would not fit the budget.
    @discardableResult
    public func load(name: String, catalogue: ToolCatalogue, adapter: LoRAAdapter? = nil) throws -> PreparedCatalogue {
        let prepared = try prepare(name: name, catalogue: catalogue, adapter: adapter)
        catalogues.removeAll { $0.name == name }
        catalogues.append(prepared)
        return prepared
    }

    /// Compiles and warms the grammars of `catalogues` concurrently, one per core; the next `load` of each
    /// takes its grammar from here. Warming is most of a catalogue's load time with a large vocabulary
    /// (Gemma 3's 262,144 tokens: ~0.35 s each), and catalogues do not depend on each other. A catalogue that
    /// fails to compile or exceeds the mask budget is skipped here: its `load` reports it.
    public func precompile(_ catalogues: [ToolCatalogue]) {
        let vocabulary = decoder.vocabulary, budget = maskCacheBudgetBytes
        let results = Mutex<[String: ByteGrammar]>([:])
        DispatchQueue.concurrentPerform(iterations: catalogues.count) { i in
            guard let grammar = try? ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogues[i]))),
                  grammar.maskWarmEstimate(for: vocabulary).bytes <= budget else { return }
            grammar.prepareMasks(for: vocabulary)
            results.withLock { $0[CatalogueFingerprint(catalogue: catalogues[i]).sha256] = grammar }
        }
        precompiled.merge(results.withLock { $0 }) { $1 }
    }

    /// The warming of the loaded catalogues' token masks, to run on any thread while this pipeline serves:
    /// the grammars' mask caches are locked and shared, and each warm-up walks with a matcher of its own,
    /// so a request that needs an entry first computes the same one itself. Cheap when already warm.
    public func maskWarmUp() -> MaskWarmUp {
        MaskWarmUp(grammars: catalogues.map { ($0.name, $0.grammar) }, vocabulary: decoder.vocabulary)
    }

    /// Removes the catalogue `name` (nothing when it is not loaded).
    public func unload(name: String) {
        catalogues.removeAll { $0.name == name }
    }

    /// The prepared form of a request's inline tools: from the cache (most recently used last), or
    /// compiled now and cached, the least recently used dropped past `maxAdHocCatalogues`.
    func prepared(_ adHoc: AdHocCatalogue) throws(RouteError) -> PreparedCatalogue {
        if let index = adHocCache.firstIndex(where: { $0.key == adHoc.key }) {
            let entry = adHocCache.remove(at: index)
            adHocCache.append(entry)
            return entry.prepared
        }
        let prepared: PreparedCatalogue
        do { prepared = try prepare(name: adHoc.name, catalogue: adHoc.catalogue, adapter: nil) } catch {
            throw .grammar("the request's tools: \(error)")
        }
        adHocCache.append((adHoc.key, prepared))
        if adHocCache.count > maxAdHocCatalogues { adHocCache.removeFirst(adHocCache.count - maxAdHocCatalogues) }
        return prepared
    }

    /// Compiles a catalogue's grammar, warms its masks and computes its prefix state under `adapter`.
    private func prepare(name: String, catalogue: ToolCatalogue, adapter: LoRAAdapter?) throws -> PreparedCatalogue {
        let key = CatalogueFingerprint(catalogue: catalogue).sha256
        let grammar = try precompiled.removeValue(forKey: key) ?? ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        try checkMaskBudget(grammar, catalogue: name)
        if warmsMasksOnLoad { grammar.prepareMasks(for: decoder.vocabulary) }   // nothing left to do when precompiled
        // The catalogue's text is encoded as plain text (a control-token string in a description stays text),
        // and so is the user turn's opening (with Gemma it holds the system prompt).
        let systemIDs = PromptRenderer.encodeSplit(catalogue: catalogue, input: "x", template: template, tokenizer: tokenizer).prefix
        let openingIDs = tokenizer.encode(PromptRenderer.userTurnOpening(catalogue: catalogue, template: template),
                                          parseSpecial: false, addSpecial: false)
        let prefixIDs = systemIDs + openingIDs
        let prefixCache = KVCache(config: transformer.model.config, capacity: max(1, prefixIDs.count))
        if !prefixIDs.isEmpty { _ = try transformer.evaluate(prefixIDs, cache: prefixCache, adapter: adapter, shouldStop: nil, computeLogits: false) }
        return PreparedCatalogue(name: name, catalogue: catalogue, grammar: grammar, adapter: adapter,
                                 prefixIDs: prefixIDs, systemCount: systemIDs.count, prefixCache: prefixCache)
    }

    /// The ad-hoc catalogues compiled so far, least recently used first (see `prepared(_:)`).
    public var adHocKeys: [String] { adHocCache.map(\.key) }

    /// The catalogue a request names; the only one when none is named and exactly one is loaded.
    public func catalogue(named name: String?) throws(RouteError) -> PreparedCatalogue {
        if let name, let found = catalogues.first(where: { $0.name == name }) { return found }
        if name == nil, catalogues.count == 1, let only = catalogues.first { return only }
        throw .unknownCatalogue(name, loaded: catalogues.map(\.name))
    }

    /// Decides the call for `input`: prefix from the cache, request prefill, constrained decode, parse, validate.
    /// `shouldStop` is checked at every decoding step (deadlines, cancelled requests).
    public func route(catalogue name: String?, input: String, shouldStop: (() -> Bool)? = nil) throws(RouteError) -> RouteResult {
        try route(RouteRequest(catalogue: name, input: input), shouldStop: shouldStop)
    }

    /// Routes `request`, its grammar narrowed to its tool choice.
    public func route(_ request: RouteRequest, shouldStop: (() -> Bool)? = nil) throws(RouteError) -> RouteResult {
        let start = MonotonicClock.now()
        let input = request.input
        let prepared: PreparedCatalogue
        if let adHoc = request.adHoc { prepared = try self.prepared(adHoc) } else { prepared = try catalogue(named: request.catalogue) }
        guard !input.isEmpty else { throw .emptyInput }
        let grammar = try prepared.grammar(for: request.toolChoice)
        // The request's part of the prompt is cut from the whole rendering (rendering the user turn alone
        // would let a template add its default system prompt). The input is encoded as plain text: a
        // `<|im_end|>` in it cannot end the user's turn.
        let requestIDs = PromptRenderer.encodeRequest(catalogue: prepared.catalogue, input: input, template: template, tokenizer: tokenizer)
        let (cached, rest) = prepared.split(requestIDs: requestIDs)
        let total = cached + rest.count
        guard total + 1 < cache.capacity else { throw .inputTooLong(tokens: total, capacity: cache.capacity) }
        do { try cache.loadPrefix(from: prepared.prefixCache, length: cached) } catch {
            throw .decoding(.inference(error))
        }
        let budget = min(maxTokens, cache.capacity - total - 1)
        let decoded: ConstrainedResult
        // The request's own text, for the `x-from-input` spans of this grammar (and of nothing else).
        let spans = grammar.hasRequestSpans ? RequestSpans(input) : nil
        do { decoded = try decoder.decode(prompt: Array(rest), grammar: grammar, maxTokens: budget, cache: cache, request: spans,
                                          adapter: prepared.adapter, shouldStop: shouldStop) } catch {
            // The context, not `maxTokens`, cut the budget: the input left no room for the answer.
            switch error {
            case .budgetTooSmall where budget < maxTokens, .budgetExhausted where budget < maxTokens: throw .inputTooLong(tokens: total, capacity: cache.capacity)
            default: throw .decoding(error)
            }
        }
        let validateStart = MonotonicClock.now()
        let call: ToolCall
        do { call = try ToolCall(parsing: decoded.text, catalogue: prepared.catalogue) } catch {
            throw .invalidCall(raw: decoded.text, problems: ["\(error)"])
        }
        let issues = prepared.catalogue.validate(call, origin: .request(input))
        guard issues.isEmpty else {
            throw .invalidCall(raw: decoded.text, problems: issues.map { "\($0.instancePointer): \($0.message)" })
        }
        var timings = RouteTimings()
        timings.validateMs = (MonotonicClock.now() - validateStart) * 1000
        timings.prefillMs = decoded.prefillSeconds * 1000
        timings.decodeMs = decoded.decodeSeconds * 1000
        timings.maskMs = decoded.maskSeconds * 1000
        timings.promptTokens = total
        timings.cachedTokens = cached
        timings.generatedTokens = decoded.ids.count
        timings.totalMs = (MonotonicClock.now() - start) * 1000
        return RouteResult(call: call, raw: decoded.text, timings: timings)
    }
}
