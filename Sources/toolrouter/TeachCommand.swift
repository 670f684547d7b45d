// `toolrouter teach`: the distillation step of `train --teacher` on its own, for trying a teacher
// endpoint before a training run: ask it for rows like the examples, keep the valid ones, print counts.

import ArgumentParser
import Foundation
import JSON
import Teacher
import ToolCalls

struct TeachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teach",
        abstract: "Ask an OpenAI-compatible teacher model for training rows like the examples; keep the valid ones.",
        discussion: """
        Sends the examples to POST {--teacher}/chat/completions in batches, asking for rewordings of each request (same \
        call) and for new requests with their calls (aimed at the least-covered tools and optional arguments, plus some \
        no_tool). Each row is deduplicated against the examples, then checked: its arguments must satisfy the tool's \
        schema and every string argument that is not an enum value must occur verbatim in the request. Kept rows are \
        written to --out as JSONL; the counts (kept, rejected by reason) go to stdout. The API key is $OPENAI_API_KEY, \
        or the variable --teacher-key-env names. scripts/teacher-server starts a local stand-in teacher.
        """)

    @Option(help: "The tool catalogue (FILE.tools.json).") var catalogue: String
    @Option(help: "The examples: one {\"prompt\", \"target\"} JSON object a line.") var examples: String
    @Option(help: "The teacher's API base URL, e.g. http://127.0.0.1:8089/v1.") var teacher: String
    @Option(name: .customLong("teacher-model"), help: "The model name to send.") var teacherModel: String
    @Option(name: .customLong("teacher-key-env"), help: "The environment variable holding the API key (default OPENAI_API_KEY).")
    var teacherKeyEnv: String?
    @Option(help: "Rows to keep (the run stops once it has them).") var count = 40
    @Option(help: "Where to write the kept rows (JSONL).") var out: String
    @Option(help: "Seed for batch order and for the server's sampling.") var seed: UInt64 = 0
    @Option(help: "Sampling temperature.") var temperature = 0.7
    @Option(name: .customLong("batch-size"), help: "Examples per paraphrase request.") var batchSize = 6
    @Option(name: .customLong("max-requests"), help: "Chat requests at most (default: three times what --count needs).") var maxRequests: Int?
    @Option(name: .customLong("max-tokens"), help: "max_tokens of each request.") var maxTokens = 1500
    @Option(help: "Seconds one HTTP request may take.") var timeout = 180.0
    @Option(help: "Tries per request on 429, 5xx or a failed connection.") var retries = 4
    @Option(name: .customLong("response-format"), help: "auto, json_schema, json_object or none.") var responseFormat = "auto"
    @Flag(help: "Print the counts as one JSON object.") var json = false
    @Flag(help: "List every rejected row with its reason.") var verbose = false

    func validate() throws {
        guard ResponseFormatMode(rawValue: responseFormat) != nil else {
            throw ValidationError("--response-format must be one of \(ResponseFormatMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard count > 0, batchSize > 0, maxTokens > 0, timeout > 0, retries > 0 else {
            throw ValidationError("--count, --batch-size, --max-tokens, --timeout and --retries must be positive")
        }
    }

    func run() throws {
        let tools: ToolCatalogue
        do { tools = try ToolCatalogue(contentsOf: catalogue) } catch { throw CLIError("\(catalogue): \(error)") }
        let rows: [TeacherRow]
        do { rows = try ExampleRows.load(path: examples, catalogue: tools) } catch { throw CLIError("\(error)") }
        let key: String?
        do { key = try TeacherEndpoint.apiKey(variable: teacherKeyEnv, environment: ProcessInfo.processInfo.environment) } catch {
            throw CLIError("\(error)")
        }
        let endpoint = TeacherEndpoint(baseURL: teacher, model: teacherModel, apiKey: key, timeout: timeout)
        do { _ = try endpoint.chatURL() } catch { throw CLIError("\(error)") }
        var options = TeacherOptions()
        options.temperature = temperature
        options.batchSize = batchSize
        options.maxTokens = maxTokens
        options.maxRequests = maxRequests
        let client = ChatClient(endpoint: endpoint, retry: RetryPolicy(maxAttempts: retries),
                                responseFormat: ResponseFormatMode(rawValue: responseFormat) ?? .auto)
        let session = TeacherSession(client: client, options: options)
        let (count, seed) = (count, seed)
        let result = try blocking { try await session.distill(catalogue: tools, examples: rows, count: count, seed: seed) }

        let text = result.kept.map { $0.jsonLine + "\n" }.joined()
        do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch { throw CLIError("\(out): cannot write: \(error.localizedDescription)") }
        if verbose {
            for candidate in result.candidates {
                if case .reject(let reason, let detail) = candidate.verdict { print("rejected \(reason): \(detail) | \(candidate.row.jsonLine)") }
            }
            for problem in result.problems { print("unparseable: \(problem)") }
        }
        print(json ? JSONWriter.compact(result.countsJSON) : result.summary + "\nwrote \(result.kept.count) rows to \(out)")
    }
}
