// Training rows as the trainer consumes them: the daemon's own prompt ids, the grammar's canonical target
// and its ids, the end-of-turn id, and a loss weight per target token. Rendering here (and in
// `toolrouter render-prompt --rows`, which calls the same code) is what keeps training and serving from
// drifting apart: the Python trainer never tokenises anything.

import JSON
import Tokenizer
import ToolCalls

/// One `{"prompt", "target"}` row with its target parsed, schema-checked and in schema property order.
public struct TrainingExample: Sendable, Equatable {
    /// The user's request.
    public var prompt: String
    /// The call it should produce.
    public var call: ToolCall

    /// An example as given (the caller vouches for the call).
    public init(prompt: String, call: ToolCall) {
        self.prompt = prompt
        self.call = call
    }

    /// Reads one JSONL line; the target must pass its tool's schema. Errors say what is wrong (and where,
    /// as a JSON pointer into the target).
    public init(line: String, catalogue: ToolCatalogue) throws(TrainingRowError) {
        let row: JSONValue
        do { row = try JSONParser.parse(line) } catch { throw TrainingRowError("not JSON: \(error)") }
        guard let prompt = row["prompt"]?.stringValue, !prompt.isEmpty else { throw TrainingRowError("needs a non-empty \"prompt\" string") }
        guard let target = row["target"] else { throw TrainingRowError("needs a \"target\" call") }
        let call: ToolCall
        do { call = try ToolCall(json: target, catalogue: catalogue).inSchemaOrder(catalogue: catalogue) } catch {
            throw TrainingRowError("target: \(error)")
        }
        let issues = catalogue.validate(call, origin: .request(prompt))
        guard issues.isEmpty else {
            throw TrainingRowError("target fails its schema: " + issues.map { "/target/arguments\($0.instancePointer): \($0.message)" }.joined(separator: "; "))
        }
        self.init(prompt: prompt, call: call)
    }

    /// Every example of a JSONL text; an error names the line (`label:LINE: ...`).
    public static func parseLines(_ text: String, catalogue: ToolCatalogue, label: String) throws(TrainingRowError) -> [TrainingExample] {
        var examples: [TrainingExample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.allSatisfy(\.isWhitespace) {
            do { examples.append(try TrainingExample(line: String(line), catalogue: catalogue)) } catch {
                throw TrainingRowError("\(label):\(index + 1): \(error.description)")
            }
        }
        return examples
    }

    /// The row as JSON, in the examples-file format.
    public var json: JSONValue { .object([("prompt", .string(prompt)), ("target", call.json)]) }
}

/// A training row that cannot be used.
public struct TrainingRowError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A row rendered for the trainer.
public struct RenderedRow: Sendable, Equatable {
    /// The prompt text (control tokens written out), for display.
    public var prompt: String
    /// The prompt's ids, as the daemon encodes a request.
    public var promptIDs: [Int]
    /// The target's canonical text (compact JSON, schema property order): what the grammar lets the model write.
    public var completion: String
    /// The completion's ids.
    public var completionIDs: [Int]
    /// The end-of-turn token that follows the completion.
    public var endID: Int
    /// One loss weight per completion token, then one for the end token.
    public var weights: [Double]

    /// `{"prompt", "prompt_ids", "completion", "completion_ids", "end_id"}`: `render-prompt --rows`' line.
    public var renderPromptJSON: JSONValue {
        .object([("prompt", .string(prompt)), ("prompt_ids", Self.ids(promptIDs)), ("completion", .string(completion)),
                 ("completion_ids", Self.ids(completionIDs)), ("end_id", .number(JSONNumber(endID)))])
    }

    /// `{"prompt_ids", "completion_ids", "end_id", "weights"}`: the trainer's input line.
    public var trainerJSON: JSONValue {
        .object([("prompt_ids", Self.ids(promptIDs)), ("completion_ids", Self.ids(completionIDs)), ("end_id", .number(JSONNumber(endID))),
                 ("weights", .array(weights.map { .number(JSONNumber($0)) }))])
    }

    private static func ids(_ ids: [Int]) -> JSONValue { .array(ids.map { .number(JSONNumber($0)) }) }
}

/// Renders examples of one catalogue with one model's tokenizer and chat template.
public struct RowRenderer: Sendable {
    /// The catalogue the prompts name.
    public let catalogue: ToolCatalogue
    /// The model's tokenizer.
    public let tokenizer: BPETokenizer
    /// The model's chat template.
    public let template: ChatTemplate
    /// The end-of-turn token id.
    public let endID: Int

    /// A renderer; fails when the template's end-of-turn marker is not a single token.
    public init(catalogue: ToolCatalogue, tokenizer: BPETokenizer, template: ChatTemplate) throws(TrainingRowError) {
        let endIDs = tokenizer.encode(template.endOfTurn, parseSpecial: true, addSpecial: false)
        guard endIDs.count == 1, let endID = endIDs.first else { throw TrainingRowError("\(template.endOfTurn) is not one token") }
        self.catalogue = catalogue
        self.tokenizer = tokenizer
        self.template = template
        self.endID = endID
    }

    /// The example rendered, its tokens weighted by `DecisionWeights` with `decisionWeight` (1: a plain mean).
    public func render(_ example: TrainingExample, decisionWeight: Double = 1) throws(TrainingRowError) -> RenderedRow {
        let completion = example.call.canonicalJSON
        let completionIDs = tokenizer.encode(completion, parseSpecial: false, addSpecial: false)
        let weights: [Double]
        do {
            weights = try DecisionWeights.weights(completion: completion, ids: completionIDs, tool: example.call.toolName,
                                                  request: example.prompt, tokenizer: tokenizer, weight: decisionWeight)
        } catch { throw TrainingRowError("\(completion): \(error)") }
        return RenderedRow(prompt: PromptRenderer.render(catalogue: catalogue, input: example.prompt, template: template),
                           promptIDs: PromptRenderer.encode(catalogue: catalogue, input: example.prompt, template: template, tokenizer: tokenizer),
                           completion: completion, completionIDs: completionIDs, endID: endID, weights: weights)
    }
}
