// The real default model, shared by the model tests.

import Foundation
import GGUF
import Inference
import Tokenizer
import TestSupport

/// Paths and a lazily loaded copy of the default model (installed by scripts/setup).
enum TestModel {
    /// The default model's path (see `TestPaths.model`).
    static let path = TestPaths.model

    struct Loaded: Sendable {
        let file: GGUFFile
        let model: ModelWeights
        let tokenizer: BPETokenizer
    }

    /// The loaded model; throws with a message that says how to install it when it is missing.
    static func load() throws -> Loaded {
        _ = try TestPaths.requireModel()
        return try shared.get()
    }

    private static let shared: Result<Loaded, Error> = Result {
        let file = try GGUFFile(path: path)
        return Loaded(file: file, model: try ModelWeights(file: file), tokenizer: try BPETokenizer(gguf: file))
    }

    typealias MissingModel = TestPaths.MissingModel

    /// A fixture file of this test target.
    static func fixture(_ name: String) throws -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    /// Lines of a JSON Lines fixture, decoded.
    static func jsonLines<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        let text = try String(contentsOf: fixture(name), encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.isEmpty }.map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }
}

/// One line of greedy-smollm2-f64.jsonl / greedy-smollm2.jsonl.
struct GreedyReference: Decodable {
    struct Top: Decodable { let id: Int; let logit: Double }
    let prompt: String
    let prompt_ids: [Int]
    let greedy_ids: [Int]
    let first_step_top10: [Top]
    let top2_gaps: [Double]?
}
