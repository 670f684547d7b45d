// Turning `--catalogue`, `--schema` and `--grammar` into a compiled decoding grammar.

import Foundation
import Grammar
import JSON
import SchemaGrammar
import TokenMatcher
import ToolCalls

/// Where a decoding grammar comes from: a tool catalogue, one JSON Schema, or a GBNF file.
enum GrammarSource {
    case catalogue(path: String)
    case schema(path: String)
    case gbnf(path: String)

    /// The source named by whichever of the three options is set; nil when none is, an error when several are.
    static func from(catalogue: String?, schema: String?, grammar: String?) throws -> GrammarSource? {
        let given = [catalogue.map(GrammarSource.catalogue), schema.map(GrammarSource.schema), grammar.map(GrammarSource.gbnf)].compactMap { $0 }
        guard given.count <= 1 else { throw CLIError("give only one of --catalogue, --schema and --grammar") }
        return given.first
    }

    /// The grammar IR: catalogue → output schema → grammar; schema → grammar; GBNF → parsed.
    func grammar() throws -> Grammar {
        switch self {
        case .catalogue(let path):
            let catalogue: ToolCatalogue
            do { catalogue = try ToolCatalogue(contentsOf: path) } catch { throw CLIError("\(path): \(error)") }
            do { return try SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)) } catch { throw CLIError("\(path): \(error)") }
        case .schema(let path):
            let text = try readText(path)
            let schema: JSONValue
            do { schema = try JSONParser.parse(text) } catch { throw CLIError("\(path): \(error)") }
            do { return try SchemaCompiler.compile(schema) } catch { throw CLIError("\(path): \(error)") }
        case .gbnf(let path):
            do { return try GBNF.parse(try readText(path)) } catch { throw CLIError("\(path): \(error)") }
        }
    }

    /// The grammar compiled for matching.
    func byteGrammar() throws -> ByteGrammar {
        let ir = try grammar()
        do { return try ByteGrammar(ir) } catch { throw CLIError("grammar: \(error)") }
    }

    private func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(path): not UTF-8 text") }
        return text
    }
}
