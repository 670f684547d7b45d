// `toolrouter render-prompt`: the daemon's own prompt rendering and target serialisation, for training
// data and for peers. Training renders every example through this command, so the text a model is
// fine-tuned on and the text the daemon serves are produced by the same code and cannot drift.

import ArgumentParser
import Foundation
import GGUF
import JSON
import Tokenizer
import ToolCalls
import Training

struct RenderPromptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-prompt",
        abstract: "Render requests as the daemon does: the prompt text and ids, and each target's canonical call.",
        discussion: """
        --input TEXT prints the rendered prompt (with --json: {"prompt", "prompt_ids"}).
        --system-prompt prints only the catalogue's system prompt (for peers such as llama.cpp).
        --rows FILE.jsonl reads {"prompt": TEXT, "target": CALL} lines and prints one JSON line each:
        {"prompt", "prompt_ids", "completion", "completion_ids", "end_id"}. Control-token strings in a request
        or in the catalogue are encoded as plain text in prompt_ids (only the chat template's own are control tokens). Each target is checked against
        its tool's schema and written in the grammar's canonical form (schema property order, compact).
        """)

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup); its tokenizer and chat template are used.")
    var model: String?

    @Option(name: .customLong("chat-template"), help: ArgumentHelp(
        "Chat template: chatml, llama3 or gemma (default: the one recognised from the model file).",
        discussion: "Needed when the file has no template (Gemma 3 base) or one of no known family.", valueName: "name"))
    var chatTemplate: String?

    @Option(help: "The tool catalogue (FILE.tools.json).")
    var catalogue: String

    @Option(help: "One request to render.")
    var input: String?

    @Option(help: "A JSONL file of {\"prompt\", \"target\"} rows to render as training examples.")
    var rows: String?

    @Flag(name: .customLong("system-prompt"), help: "Print only the catalogue's system prompt.")
    var systemPrompt = false

    @Flag(help: "With --input: print JSON with the prompt ids.")
    var json = false

    func validate() throws {
        let modes = [input != nil, rows != nil, systemPrompt].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --input, --rows and --system-prompt") }
    }

    func run() throws {
        let tools: ToolCatalogue
        do { tools = try ToolCatalogue(contentsOf: catalogue) } catch { throw CLIError("\(catalogue): \(error)") }
        if systemPrompt { return print(PromptRenderer.systemPrompt(for: tools)) }
        let path = try ModelLocator.resolve(model)
        let file: GGUFFile, tokenizer: BPETokenizer, template: ChatTemplate
        do {
            file = try GGUFFile(path: path)
            tokenizer = try BPETokenizer(gguf: file)
            template = try ChatTemplate(gguf: file, name: chatTemplate)
        } catch { throw CLIError("\(path): \(error)") }
        if let input {
            let text = PromptRenderer.render(catalogue: tools, input: input, template: template)
            guard json else { return print(text) }
            let ids = PromptRenderer.encode(catalogue: tools, input: input, template: template, tokenizer: tokenizer)
            return print(JSONWriter.compact(.object([("prompt", .string(text)), ("prompt_ids", idArray(ids))])))
        }
        guard let rows else { return }
        let renderer: RowRenderer
        do { renderer = try RowRenderer(catalogue: tools, tokenizer: tokenizer, template: template) } catch { throw CLIError("\(path): \(error)") }
        let text: String
        do { text = try String(contentsOfFile: rows, encoding: .utf8) } catch { throw CLIError("\(rows): \(error.localizedDescription)") }
        var out = ""
        do {
            for example in try TrainingExample.parseLines(text, catalogue: tools, label: rows) {
                out += JSONWriter.compact(try renderer.render(example).renderPromptJSON) + "\n"
            }
        } catch { throw CLIError(error.description) }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

/// A JSON array of token ids.
func idArray(_ ids: [Int]) -> JSONValue { .array(ids.map { .number(JSONNumber($0)) }) }
