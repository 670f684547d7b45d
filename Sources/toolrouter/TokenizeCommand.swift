// `toolrouter tokenize`: text → token ids.

import ArgumentParser
import GGUF
import Tokenizer

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text as a JSON array.")

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Flag(name: .customLong("no-special"), help: "Treat control-token text such as <|im_start|> as plain text.")
    var noSpecial = false

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let tokenizer = try loadTokenizer(ModelLocator.resolve(model))
        let ids = tokenizer.encode(text, parseSpecial: !noSpecial)
        print("[" + ids.map(String.init).joined(separator: ", ") + "]")
    }
}

/// Opens `path` and builds its tokenizer, with errors phrased for the command line.
func loadTokenizer(_ path: String) throws -> BPETokenizer {
    let file: GGUFFile
    do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
    do { return try BPETokenizer(gguf: file) } catch { throw CLIError("\(path): \(error)") }
}
