// The real default model, shared by the model tests.

import Foundation
import GGUF
import Inference
import Tokenizer

/// Paths and a lazily loaded copy of the default model (installed by scripts/setup).
enum TestModel {
    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$TOOLROUTER_MODEL`, else `<package root>/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    static let path: String = {
        if let env = ProcessInfo.processInfo.environment["TOOLROUTER_MODEL"], !env.isEmpty { return env }
        return packageRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    }()

    struct Loaded: Sendable {
        let file: GGUFFile
        let model: LlamaModel
        let tokenizer: BPETokenizer
    }

    /// The loaded model; throws with a message that says how to install it when it is missing.
    static func load() throws -> Loaded {
        guard FileManager.default.fileExists(atPath: path) else { throw MissingModel(path: path) }
        return try shared.get()
    }

    private static let shared: Result<Loaded, Error> = Result {
        let file = try GGUFFile(path: path)
        return Loaded(file: file, model: try LlamaModel(file: file), tokenizer: try BPETokenizer(gguf: file))
    }

    struct MissingModel: Error, CustomStringConvertible {
        let path: String
        var description: String { "default model not found at \(path): run scripts/setup first" }
    }

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
