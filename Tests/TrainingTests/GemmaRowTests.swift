// Training rows rendered for Gemma 3: the prompt starts with the model's one BOS, the completion and
// the end-of-turn marker carry none (a BOS inside a reply would teach the model a token it never sees).

import GGUF
import JSON
import Testing
import TestSupport
import Tokenizer
import ToolCalls
@testable import Training

@Suite struct GemmaRowTests {
    @Test("Gemma rows: one BOS at the prompt's start, none in the completion, <end_of_turn> as the end id")
    func gemmaRows() throws {
        let file = try GGUFFile(path: TestPaths.requireGemmaModel())
        let tokenizer = try BPETokenizer(gguf: file)
        let bos = try #require(tokenizer.bosID)
        let catalogue = try ToolCatalogue(contentsOf: DecisionWeightsTests.catalogue)
        let renderer = try RowRenderer(catalogue: catalogue, tokenizer: tokenizer, template: .gemma)
        #expect(renderer.endID == tokenizer.encode("<end_of_turn>", parseSpecial: true, addSpecial: false).first)
        let line = #"{"prompt":"Where is my order ORD-55821?","target":{"tool":"track_order","arguments":{"order_id":"ORD-55821"}}}"#
        let row = try renderer.render(try TrainingExample(line: line, catalogue: catalogue), decisionWeight: 5)
        #expect(row.promptIDs.first == bos && row.promptIDs.filter { $0 == bos }.count == 1)
        #expect(!row.completionIDs.contains(bos))
        #expect(row.weights.count == row.completionIDs.count + 1)
        let spelled = try row.completionIDs.flatMap { id throws(TokenizerError) in try tokenizer.tokenBytes(id) }
        #expect(spelled == Array(row.completion.utf8))
    }
}
