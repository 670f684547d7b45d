// Distillation: ask a bigger model for more training rows like the user's examples, and keep only
// those the validator accepts. Requests alternate between paraphrasing a batch of examples and
// proposing new rows for the tools (and optional arguments) covered least so far, until enough rows
// are kept or the request budget is spent. Every row is deduplicated against the examples and the
// earlier answers before it is judged; the result keeps every candidate with its origin and verdict.
//
// Determinism: the batches are drawn from `seed`, request i is sent with seed `seed + i`, and the
// plan of request i depends only on the answers before it — so a server that honours seeds (llama.cpp
// does, at any temperature) reproduces the same rows.

import JSON
import Synthesis
import ToolCalls

/// How much to ask for, and how.
public struct TeacherOptions: Sendable, Equatable {
    /// Sampling temperature sent with every request.
    public var temperature: Double = 0.7
    /// Examples per paraphrase request.
    public var batchSize: Int = 6
    /// Rewordings asked for each example.
    public var paraphrasesPerExample: Int = 2
    /// New rows asked for in each proposal request.
    public var proposalsPerRequest: Int = 8
    /// Of those, how many must be no_tool rows.
    public var noToolPerProposal: Int = 2
    /// Tools a proposal request focuses on (the least represented).
    public var focusTools: Int = 2
    /// `max_tokens` of each request.
    public var maxTokens: Int = 1500
    /// Chat requests at most; nil: three times what `count` needs if every asked row were kept.
    public var maxRequests: Int?

    /// The defaults.
    public init() {}
}

/// What a distillation run produced, and what it cost.
public struct TeacherResult: Sendable {
    /// Every row the teacher sent that could be read, with origin and verdict, in answer order.
    public var candidates: [TeacherCandidate] = []
    /// Chat requests made (each may have taken several HTTP requests).
    public var requests = 0
    /// HTTP requests sent, retries and response-format fallbacks included.
    public var httpRequests = 0
    /// Rows asked for, over all requests.
    public var asked = 0
    /// Row-shaped answers received, read or not.
    public var received = 0
    /// Received rows that could not be read.
    public var unparseable = 0
    /// Why unreadable rows could not be read (the first few).
    public var problems: [String] = []
    /// The response format the server ended up accepting.
    public var responseFormat: ResponseFormatMode = .none

    /// The rows that passed the validator, in answer order: the ones to add to the training data.
    public var kept: [TeacherRow] { candidates.filter(\.verdict.isKept).map(\.row) }
    /// Kept rows that reword an example.
    public var keptParaphrases: Int { candidates.filter { $0.verdict.isKept && $0.origin != .proposed }.count }
    /// Kept rows the teacher proposed.
    public var keptProposals: Int { candidates.filter { $0.verdict.isKept && $0.origin == .proposed }.count }
    /// Rejected rows by reason.
    public var rejected: [String: Int] {
        var counts: [String: Int] = [:]
        for candidate in candidates { if case .reject(let reason, _) = candidate.verdict { counts[reason, default: 0] += 1 } }
        return counts
    }

    /// Counts on one line: requests, asked, received, unparseable, kept (paraphrases/proposals), rejected by reason.
    public var summary: String {
        let reasons = rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "teacher: \(requests) requests (\(httpRequests) HTTP), asked \(asked) rows, received \(received), unparseable \(unparseable), "
            + "kept \(kept.count) (\(keptParaphrases) paraphrases, \(keptProposals) new), "
            + "rejected \(candidates.count - kept.count)\(reasons.isEmpty ? "" : " (\(reasons))")"
    }

    /// The counts as a JSON object (for an adapter card or `--json`).
    public var countsJSON: JSONValue {
        .object([
            ("requests", .number(JSONNumber(requests))), ("http_requests", .number(JSONNumber(httpRequests))),
            ("asked", .number(JSONNumber(asked))), ("received", .number(JSONNumber(received))),
            ("unparseable", .number(JSONNumber(unparseable))), ("kept", .number(JSONNumber(kept.count))),
            ("kept_paraphrases", .number(JSONNumber(keptParaphrases))), ("kept_new", .number(JSONNumber(keptProposals))),
            ("rejected", .object(rejected.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber($0.value))) })),
            ("response_format", .string(responseFormat.rawValue)),
        ])
    }
}

/// A distillation session against one teacher endpoint.
public struct TeacherSession: Sendable {
    /// The chat client (shared: it remembers the negotiated response format).
    public let client: ChatClient
    /// What to ask for.
    public var options: TeacherOptions

    /// A session.
    public init(client: ChatClient, options: TeacherOptions = TeacherOptions()) {
        self.client = client
        self.options = options
    }

    /// Asks the teacher for about `count` new rows like `examples` and judges each with `validate`
    /// (nil: `RowChecks.defaultVerdict`). Stops once `count` rows are kept or the request budget is
    /// spent; throws when a request fails for good (after retries), naming the URL and status.
    public func distill(catalogue: ToolCatalogue, examples: [TeacherRow], count: Int, seed: UInt64,
                        validate: ((TeacherRow) -> RowVerdict)? = nil) async throws(TeacherError) -> TeacherResult {
        let judge = validate ?? { RowChecks.verdict($0, catalogue: catalogue) }
        var result = TeacherResult()
        var seen = Set(examples.map(\.dedupeKey))
        var generator = SynthRandom(seed: seed)
        let batches = Self.batches(generator.shuffled(examples), size: max(1, options.batchSize))
        let perRequest = max(1, (options.batchSize * options.paraphrasesPerExample + options.proposalsPerRequest) / 2)
        let budget = options.maxRequests ?? max(2, 3 * ((count + perRequest - 1) / perRequest))

        for index in 0..<budget where result.kept.count < count {
            // Even requests paraphrase (while there are examples), odd ones propose.
            let paraphrasing = index % 2 == 0 && !batches.isEmpty
            let batch = paraphrasing ? batches[(index / 2) % batches.count] : []
            let messages: [ChatMessage]
            let asked: Int
            if paraphrasing {
                asked = batch.count * options.paraphrasesPerExample
                messages = TeacherPrompts.paraphrase(batch, perExample: options.paraphrasesPerExample, catalogue: catalogue)
            } else {
                asked = options.proposalsPerRequest
                let style = batches.isEmpty ? [] : batches[(index / 2) % batches.count]
                messages = TeacherPrompts.propose(count: asked, noTool: min(options.noToolPerProposal, asked),
                                                  focus: Self.focus(catalogue: catalogue, rows: examples + result.kept, tools: options.focusTools),
                                                  style: style, catalogue: catalogue)
            }
            let answer = try await client.complete(messages, temperature: options.temperature, seed: seed &+ UInt64(index),
                                                   maxTokens: options.maxTokens,
                                                   schema: TeacherPrompts.answerSchema(catalogue: catalogue, maxRows: asked))
            let parsed = AnswerParser.parse(answer.content, catalogue: catalogue)
            result.requests += 1
            result.asked += asked
            result.received += parsed.received
            result.unparseable += parsed.unparseable
            result.problems += parsed.problems.prefix(max(0, 20 - result.problems.count))
            for row in parsed.rows {
                var candidate = TeacherCandidate(row: row, origin: .proposed, request: index, verdict: .keep)
                // A paraphrase answer's row whose call is one of the batch's keeps that example's call and
                // counts as its paraphrase; any other row is judged as a proposal.
                if let source = batch.first(where: { $0.call == row.call }) {
                    candidate.origin = .paraphrase(of: source.prompt)
                    candidate.row.call = source.call
                }
                let key = candidate.row.dedupeKey
                if seen.contains(key) {
                    candidate.verdict = .reject(reason: RejectReason.duplicate, detail: "repeats \(JSONWriter.quoted(row.prompt))")
                } else {
                    seen.insert(key)
                    candidate.verdict = judge(candidate.row)
                }
                result.candidates.append(candidate)
            }
        }
        result.httpRequests = await client.httpRequests
        result.responseFormat = await client.responseFormat
        return result
    }

    private static func batches(_ rows: [TeacherRow], size: Int) -> [[TeacherRow]] {
        stride(from: 0, to: rows.count, by: size).map { Array(rows[$0..<min($0 + size, rows.count)]) }
    }

    /// The `tools` tools with the fewest rows (catalogue order breaks ties), each with its optional
    /// arguments that fewer than half of its rows state.
    static func focus(catalogue: ToolCatalogue, rows: [TeacherRow], tools: Int) -> [(tool: String, optionals: [String])] {
        var perTool: [String: [JSONValue]] = [:]
        for row in rows { if case .tool(let name, let arguments) = row.call { perTool[name, default: []].append(arguments) } }
        let ranked = catalogue.tools.enumerated().sorted { lhs, rhs in
            let (a, b) = (perTool[lhs.element.name]?.count ?? 0, perTool[rhs.element.name]?.count ?? 0)
            return a != b ? a < b : lhs.offset < rhs.offset
        }
        return ranked.prefix(max(1, tools)).map { entry in
            let tool = entry.element
            let required = Set(tool.parameters["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let calls = perTool[tool.name] ?? []
            let optionals = (tool.parameters["properties"]?.objectMembers ?? []).map(\.key).filter { name in
                !required.contains(name) && 2 * calls.filter { $0[name] != nil }.count < max(1, calls.count)
            }
            return (tool.name, optionals)
        }
    }
}
