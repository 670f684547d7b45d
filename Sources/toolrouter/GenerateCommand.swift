// `toolrouter generate`: greedy decoding of a raw prompt.

import ArgumentParser
import Foundation
import GGUF
import Inference
import Tokenizer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Greedy decoding of a raw prompt (control tokens parsed).")

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Option(name: .customLong("raw-prompt"), help: "The prompt, already in the model's chat format; control tokens are parsed.")
    var rawPrompt: String

    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.")
    var maxTokens: Int = 128

    @Flag(help: "Print one JSON object: prompt_ids, ids, text, top_logits (first step's ten largest).")
    var json = false

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be at least 1") }
    }

    func run() throws {
        let engine = try Engine.load(ModelLocator.resolve(model))
        let promptIDs = engine.tokenizer.encode(rawPrompt, parseSpecial: true)
        guard !promptIDs.isEmpty else { throw CLIError("the prompt is empty") }
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

/// A loaded model with its tokenizer and forward pass, sharing one memory map.
struct Engine {
    let model: LlamaModel
    let tokenizer: BPETokenizer
    let transformer: Transformer

    static func load(_ path: String) throws -> Engine {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
        let model: LlamaModel, tokenizer: BPETokenizer
        do { model = try LlamaModel(file: file) } catch { throw CLIError("\(path): \(error)") }
        do { tokenizer = try BPETokenizer(gguf: file) } catch { throw CLIError("\(path): \(error)") }
        return Engine(model: model, tokenizer: tokenizer, transformer: Transformer(model: model))
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
