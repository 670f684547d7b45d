// The decision weights and the rendered rows the trainer consumes, checked against hand-worked rows.

import Foundation
import GGUF
import JSON
import TestSupport
import Testing
import Tokenizer
import ToolCalls
@testable import Training

@Suite("Rendered rows and decision weights")
struct DecisionWeightsTests {
    static let catalogue = TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path

    /// The default model's tokenizer and chat template.
    static func tokenizer() throws -> (BPETokenizer, ChatTemplate) {
        let file = try GGUFFile(path: try TestPaths.requireModel())
        return (try BPETokenizer(gguf: file), try ChatTemplate(gguf: file))
    }

    @Test("hand-split bytes: keys, the tool name, numbers and structure weigh W; string values weigh 1; the end token 1")
    func handSplit() throws {
        let pieces = [#"{""#, "tool", #"":""#, "lock", #"",""#, "arguments", #"":"#, #"{""#, "on", #"":"#, "true", #",""#,
                      "name", #"":""#, "Front", " door", #""}}"#]
        let completion = pieces.joined()
        let weights = try DecisionWeights.weights(completion: completion, tokenBytes: pieces.map { Array($0.utf8) }, tool: "lock", weight: 4)
        #expect(weights == [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1, 1, 4, 1])
    }

    @Test("an escaped quote inside a value does not end the string; a value equal to a key's text stays a value")
    func escapesAndLookalikes() throws {
        let pieces = [#"{"tool":"no_tool","reason":""#, #"say \"order\":"#, " ok", #""}"#]
        let weights = try DecisionWeights.weights(completion: pieces.joined(), tokenBytes: pieces.map { Array($0.utf8) }, tool: "no_tool", weight: 5)
        #expect(weights == [5, 1, 1, 5, 1])
    }

    @Test("with the request: a copied value decides at its first token only, an implied or converted value all through")
    func valuesByKind() throws {
        let pieces = [#"{"tool":"set","arguments":{"room":""#, "living", " room", #"","mode":""#, "e", "co", #"","at":""#, "21", ":", "00", #""}}"#]
        let weights = try DecisionWeights.weights(completion: pieces.joined(), tokenBytes: pieces.map { Array($0.utf8) }, tool: "set",
                                                  request: "living room on eco mode at 9pm", weight: 5)
        // "eco" is in the request, so it is a copy too: first token only; "21:00" is a conversion.
        #expect(weights == [5, 5, 1, 5, 5, 1, 5, 5, 5, 5, 5, 1])
        let implied = try DecisionWeights.weights(completion: pieces.joined(), tokenBytes: pieces.map { Array($0.utf8) }, tool: "set",
                                                  request: "living room at 21:00, energy saving", weight: 5)
        #expect(implied == [5, 5, 1, 5, 5, 5, 5, 5, 1, 1, 5, 1])
        let reason = [#"{"tool":"no_tool","reason":""#, "missing", " room", #""}"#]
        #expect(try DecisionWeights.weights(completion: reason.joined(), tokenBytes: reason.map { Array($0.utf8) }, tool: "no_tool",
                                            request: "turn the lights on", weight: 5) == [5, 1, 1, 5, 1])
    }

    @Test("W = 1 weighs everything 1; ids that do not spell the completion are refused")
    func plainAndMismatch() throws {
        #expect(try DecisionWeights.weights(completion: "{}", tokenBytes: [[123], [125]], tool: "x", weight: 1) == [1, 1, 1])
        #expect(throws: DecisionWeights.Failure.idsDoNotSpellCompletion) {
            try DecisionWeights.weights(completion: #"{"tool":"a"}"#, tokenBytes: [Array(#"{"tool":"b"}"#.utf8)], tool: "a", weight: 5)
        }
    }

    @Test("real tokenizer, three hand-checked rows (SmolLM2's tokens listed in the comments)")
    func realRows() throws {
        let (tokenizer, template) = try Self.tokenizer()
        let catalogue = try ToolCatalogue(contentsOf: Self.catalogue)
        let renderer = try RowRenderer(catalogue: catalogue, tokenizer: tokenizer, template: template)
        let cases: [(String, [Double])] = [
            // {" tool ":" track _ order "," arguments ": {" order _ id ":" ORD - 5 5 8 2 1 " }}  + end
            // ORD-55821 is copied from the request: its first token decides which span, the rest follow.
            (#"{"prompt":"where is ORD-55821","target":{"tool":"track_order","arguments":{"order_id":"ORD-55821"}}}"#,
             [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 5, 5, 1]),
            // {" tool ":" no _ tool "," reason ":" small Ġtalk "}  + end
            (#"{"prompt":"hi there","target":{"tool":"no_tool","reason":"small talk"}}"#,
             [5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 5, 1]),
        ]
        for (line, expected) in cases {
            let row = try renderer.render(try TrainingExample(line: line, catalogue: catalogue), decisionWeight: 5)
            let pieces = row.completionIDs.map { (try? tokenizer.tokenText($0)) ?? "?" }
            #expect(row.weights == expected, "\(row.completion): \(pieces)")
            #expect(row.weights.count == row.completionIDs.count + 1)
            #expect(row.endID == tokenizer.encode("<|im_end|>", parseSpecial: true).first)
            #expect(row.promptIDs == PromptRenderer.encode(catalogue: catalogue, input: try JSONParser.parse(line)["prompt"]?.stringValue ?? "",
                                                           template: template, tokenizer: tokenizer))
        }
    }

    @Test("rows are schema-checked with the target's JSON pointer, put in schema order, and rendered canonically")
    func rowsChecked() throws {
        let catalogue = try ToolCatalogue(contentsOf: Self.catalogue)
        do {
            _ = try TrainingExample.parseLines("\n" + #"{"prompt":"x","target":{"tool":"track_order","arguments":{"order_id":5}}}"#,
                                               catalogue: catalogue, label: "rows.jsonl")
            Issue.record("a bad row was accepted")
        } catch {
            #expect(error.description.hasPrefix("rows.jsonl:2: target fails its schema: /target/arguments/order_id"), "\(error)")
        }
        let example = try TrainingExample(line: #"{"prompt":"ORD-1234 came late","target":{"tool":"request_refund","arguments":{"reason":"late","order_id":"ORD-1234"}}}"#,
                                          catalogue: catalogue)
        #expect(example.call.canonicalJSON == #"{"tool":"request_refund","arguments":{"order_id":"ORD-1234","reason":"late"}}"#)
    }

    @Test("SHA-256 of the standard test vectors")
    func sha256() {
        #expect(ContentHash.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ContentHash.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ContentHash.sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
