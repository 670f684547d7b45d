// grammars/support.gbnf and grammars/devops.gbnf are the compiled grammars of the demo catalogues;
// this test keeps them in sync with the compiler (regenerate with `toolrouter grammar --catalogue`).

import Foundation
import Grammar
import SchemaGrammar
import Testing
import ToolCalls

@Suite("Generated catalogue grammars in grammars/")
struct GeneratedGrammarTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("each committed grammar equals the compiler's output for its catalogue", arguments: ["support", "devops"])
    func inSync(name: String) throws {
        let catalogue = try ToolCatalogue(contentsOf: Self.root.appendingPathComponent("examples/catalogues/\(name).tools.json").path)
        let compiled = GBNF.print(try SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        let committed = try String(contentsOf: Self.root.appendingPathComponent("grammars/\(name).gbnf"), encoding: .utf8)
        #expect(committed == compiled, "grammars/\(name).gbnf is stale: run `toolrouter grammar --catalogue examples/catalogues/\(name).tools.json > grammars/\(name).gbnf`")
        #expect(try GBNF.parse(committed) == GBNF.parse(compiled))
    }
}
