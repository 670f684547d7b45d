// `toolrouter grammar`: print the compiled GBNF of a catalogue or schema.

import ArgumentParser
import Grammar

struct GrammarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grammar", abstract: "Print the GBNF grammar compiled from a tool catalogue or a JSON Schema.")

    @Option(help: "A tool catalogue in the OpenAI tools format (FILE.tools.json).")
    var catalogue: String?

    @Option(help: "A JSON Schema file.")
    var schema: String?

    func run() throws {
        guard let source = try GrammarSource.from(catalogue: catalogue, schema: schema, grammar: nil) else {
            throw CLIError("give --catalogue FILE or --schema FILE")
        }
        print(GBNF.print(try source.grammar()), terminator: "")
    }
}
