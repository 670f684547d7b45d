// `toolrouter generate`: greedy decoding of a raw prompt.

import ArgumentParser
import Foundation
import GGUF
import Inference
import Router
import TokenMatcher
import Tokenizer
import ToolCalls

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Greedy decoding of a raw prompt (control tokens parsed).")

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Option(name: .customLong("raw-prompt"), help: "The prompt, already in the model's chat format; control tokens are parsed.")
    var rawPrompt: String?

    @Option(help: "A plain request, rendered with the catalogue's system prompt in the model's chat format (needs --catalogue).")
    var input: String?

    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.")
    var maxTokens: Int = 128

    @Flag(help: "Print one JSON object: prompt_ids, ids, text, top_logits (first step's ten largest).")
    var json = false

    @Option(help: "Constrain the output to a call of this tool catalogue (FILE.tools.json).")
    var catalogue: String?

    @Option(help: "Constrain the output to this JSON Schema (FILE.json).")
    var schema: String?

    @Option(help: "Constrain the output to this GBNF grammar (FILE.gbnf).")
    var grammar: String?

    @Option(name: .customLong("chat-template"), help: ArgumentHelp(
        "Chat template for --input: chatml, llama3 or gemma (default: the one recognised from the model file).",
        discussion: "Needed when the file has no template (Gemma 3 base) or one of no known family.", valueName: "name"))
    var chatTemplate: String?

    @OptionGroup var adapterOptions: AdapterOptions

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be at least 1") }
        guard (rawPrompt == nil) != (input == nil) else { throw ValidationError("give exactly one of --raw-prompt and --input") }
        guard input == nil || catalogue != nil else { throw ValidationError("--input needs --catalogue (it renders the catalogue's prompt)") }
    }

    /// The prompt ids: the raw prompt with control tokens parsed, or the request rendered with the
    /// catalogue's prompt (its input and catalogue text encoded as plain text, as the daemon does).
    func promptIDs(tokenizer: BPETokenizer, template: ChatTemplate) throws -> [Int] {
        if let rawPrompt { return tokenizer.encode(rawPrompt, parseSpecial: true) }
        guard let input, let catalogue else { return [] }
        let tools: ToolCatalogue
        do { tools = try ToolCatalogue(contentsOf: catalogue) } catch { throw CLIError("\(catalogue): \(error)") }
        return PromptRenderer.encode(catalogue: tools, input: input, template: template, tokenizer: tokenizer)
    }

    func run() throws {
        let source = try GrammarSource.from(catalogue: catalogue, schema: schema, grammar: grammar)
        let compiled = try source?.byteGrammar()
        let engine = try Engine.load(ModelLocator.resolve(model), chatTemplate: chatTemplate).applying(adapterOptions)
        let promptIDs = try promptIDs(tokenizer: engine.tokenizer, template: engine.chatTemplate)
        guard !promptIDs.isEmpty else { throw CLIError("the prompt is empty") }
        if let compiled { return try runConstrained(engine, promptIDs: promptIDs, grammar: compiled) }
        let cache = KVCache(config: engine.model.config, capacity: promptIDs.count + maxTokens)
        let generator = GreedyGenerator(transformer: engine.transformer, stopTokens: engine.tokenizer.endOfGenerationIDs)
        var stream = StreamingDecoder(tokenizer: engine.tokenizer)
        let result: GenerationResult
        do {
            result = try generator.generate(prompt: promptIDs, maxTokens: maxTokens, cache: cache) { id in
                guard !json, !engine.tokenizer.endOfGenerationIDs.contains(id) else { return }
                if let piece = try? stream.feed(id), !piece.isEmpty {
                    FileHandle.standardOutput.write(Data(piece.utf8))
                }
            }
        } catch { throw CLIError("generation failed: \(error)") }
        if json {
            let text = (try? engine.tokenizer.decodeText(result.ids.filter { !engine.tokenizer.endOfGenerationIDs.contains($0) })) ?? ""
            let top = result.firstStepTop.map { "{\"id\": \($0.id), \"logit\": \($0.logit)}" }.joined(separator: ", ")
            print("{\"prompt_ids\": \(jsonArray(promptIDs)), \"ids\": \(jsonArray(result.ids)), \"text\": \(jsonString(text)), \"top_logits\": [\(top)]}")
        } else {
            FileHandle.standardOutput.write(Data((stream.finish() + "\n").utf8))
        }
    }
}

extension GenerateCommand {
    /// Greedy decoding under `grammar`; prints the complete output (or one JSON object with --json).
    func runConstrained(_ engine: Engine, promptIDs: [Int], grammar: ByteGrammar) throws {
        let cache = KVCache(config: engine.model.config, capacity: promptIDs.count + maxTokens + 1)
        let decoder = ConstrainedDecoder(transformer: engine.transformer, tokenizer: engine.tokenizer)
        let result: ConstrainedResult
        do { result = try decoder.decode(prompt: promptIDs, grammar: grammar, maxTokens: maxTokens, cache: cache) } catch {
            throw CLIError("constrained generation failed: \(error)")
        }
        if json {
            print("{\"prompt_ids\": \(jsonArray(promptIDs)), \"ids\": \(jsonArray(result.ids)), \"text\": \(jsonString(result.text)), "
                  + "\"sampled_tokens\": \(result.sampledTokens), \"forced_tokens\": \(result.forcedTokens), "
                  + "\"first_candidate_hits\": \(result.firstCandidateHits), \"full_mask_steps\": \(result.fullMaskSteps)}")
        } else {
            print(result.text)
        }
    }
}

/// A loaded model with its tokenizer and forward pass, sharing one memory map.
struct Engine {
    let model: ModelWeights
    let tokenizer: BPETokenizer
    let transformer: Transformer
    let chatTemplate: ChatTemplate

    /// - Parameter chatTemplate: a template name (`chatml`, `llama3`, `gemma`) to use instead of the one
    ///   recognised from the file; needed for files with no template, or one of no known family.
    static func load(_ path: String, chatTemplate name: String? = nil) throws -> Engine {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
        let model: ModelWeights, tokenizer: BPETokenizer
        do { model = try ModelWeights(file: file) } catch { throw CLIError("\(path): \(error)") }
        do { tokenizer = try BPETokenizer(gguf: file) } catch { throw CLIError("\(path): \(error)") }
        let template: ChatTemplate
        do { template = try ChatTemplate(gguf: file, name: name) } catch { throw CLIError("\(path): \(error)") }
        return Engine(model: model, tokenizer: tokenizer, transformer: Transformer(model: model), chatTemplate: template)
    }
}

/// `[1, 2, 3]`.
func jsonArray(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ", ") + "]" }

/// A JSON string literal for `s` (RFC 8259 escapes; non-ASCII kept as UTF-8).
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}
