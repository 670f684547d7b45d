import Foundation
import GGUF
import Testing
@testable import Tokenizer

/// The SmolLM2 model file the reference fixtures were made from, and its tokenizer, loaded once.
enum TestModel {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// `TOOLROUTER_MODEL` if set, else `<package root>/models/<fileName>`.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["TOOLROUTER_MODEL"], !path.isEmpty { return path }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // TokenizerTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
        return packageRoot.appendingPathComponent("models").appendingPathComponent(fileName).path
    }

    /// Raised when the model file is absent: a failure, never a skip.
    struct MissingModel: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "model file not found at \(path): run scripts/setup from the package root (or set TOOLROUTER_MODEL)"
        }
    }

    private static let loaded: Result<(BPETokenizer, ChatTemplate, String), any Error> = Result { try load() }

    /// The model's tokenizer.
    static func tokenizer() throws -> BPETokenizer { try loaded.get().0 }
    /// The model's chat template, recognised.
    static func chatTemplate() throws -> ChatTemplate { try loaded.get().1 }
    /// The model's chat template, as Jinja source.
    static func chatTemplateSource() throws -> String { try loaded.get().2 }

    /// Opens the model file and builds its tokenizer and chat template.
    static func load() throws -> (BPETokenizer, ChatTemplate, String) {
        let file = try open()
        let source = file.string(TokenizerKey.chatTemplate) ?? ""
        return (try BPETokenizer(gguf: file), try ChatTemplate(gguf: file), source)
    }

    /// Opens the model file (memory-mapped); throws `MissingModel` if it is absent.
    static func open() throws -> GGUFFile {
        guard FileManager.default.fileExists(atPath: path) else { throw MissingModel(path: path) }
        return try GGUFFile(path: path)
    }
}

/// The Gemma 3 270M model file (a SentencePiece vocabulary), fetched by `scripts/setup --model gemma3-270m`,
/// and its tokenizer, loaded once.
enum GemmaModel {
    static let fileName = "gemma-3-270m-q4_k_m.gguf"

    /// `TOOLROUTER_GEMMA_MODEL` if set, else `<package root>/models/<fileName>`.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["TOOLROUTER_GEMMA_MODEL"], !path.isEmpty { return path }
        return URL(fileURLWithPath: TestModel.path).deletingLastPathComponent().appendingPathComponent(fileName).path
    }

    /// Raised when the model file is absent: a failure, never a skip.
    struct MissingModel: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "model file not found at \(path): run scripts/setup --model gemma3-270m from the package root "
                + "(or set TOOLROUTER_GEMMA_MODEL)"
        }
    }

    private static let loaded: Result<BPETokenizer, any Error> = Result { try BPETokenizer(gguf: open()) }

    /// The model's tokenizer.
    static func tokenizer() throws -> BPETokenizer { try loaded.get() }

    /// Opens the model file (memory-mapped); throws `MissingModel` if it is absent.
    static func open() throws -> GGUFFile {
        guard FileManager.default.fileExists(atPath: path) else { throw MissingModel(path: path) }
        return try GGUFFile(path: path)
    }
}

/// Tokenizer metadata from a dictionary, to build vocabularies by hand and reach error paths.
struct DictionaryMetadata: TokenizerMetadata {
    var values: [String: any Sendable]

    func string(_ key: String) -> String? { values[key] as? String }
    func int(_ key: String) -> Int? { values[key] as? Int }
    func bool(_ key: String) -> Bool? { values[key] as? Bool }
    func stringArray(_ key: String) -> [String]? { values[key] as? [String] }
    func intArray(_ key: String) -> [Int]? { values[key] as? [Int] }
    func floats(_ key: String) -> [Float]? { values[key] as? [Float] }
    func contains(_ key: String) -> Bool { values[key] != nil }
}

/// The JSON-lines fixtures in Tests/TokenizerTests/Fixtures.
enum Fixtures {
    /// One line of tokenizer-smollm2.jsonl (or tokenizer-gemma3.jsonl): llama.cpp's ids for `text`,
    /// with no BOS added.
    struct TokenizerCase: Decodable, Sendable {
        let text: String
        let ids: [Int]
        let parseSpecial: Bool

        enum CodingKeys: String, CodingKey {
            case text, ids
            case parseSpecial = "parse_special"
        }
    }

    /// One line of chat-prompts-smollm2.jsonl (from the greedy reference): messages, the prompt
    /// llama.cpp's chat template made of them, and its ids.
    struct ChatCase: Decodable, Sendable {
        struct Message: Decodable, Sendable {
            let role: String
            let content: String
        }
        let messages: [Message]
        let prompt: String
        let promptIDs: [Int]

        enum CodingKeys: String, CodingKey {
            case messages, prompt
            case promptIDs = "prompt_ids"
        }
    }

    static func tokenizerCases() throws -> [TokenizerCase] { try jsonLines("tokenizer-smollm2") }
    /// tokenizer-gemma3.jsonl: llama.cpp's ids for the Gemma 3 vocabulary, no BOS added.
    static func gemmaTokenizerCases() throws -> [TokenizerCase] { try jsonLines("tokenizer-gemma3") }
    static func fuzzCases() throws -> [TokenizerCase] { try jsonLines("tokenizer-smollm2-fuzz") }
    static func chatCases() throws -> [ChatCase] { try jsonLines("chat-prompts-smollm2") }

    struct MissingFixture: Error, CustomStringConvertible {
        let name: String
        var description: String { "fixture \(name).jsonl is not in the test bundle" }
    }

    private static func jsonLines<T: Decodable>(_ name: String) throws -> [T] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "jsonl", subdirectory: "Fixtures") else {
            throw MissingFixture(name: name)
        }
        let decoder = JSONDecoder()
        return try String(contentsOf: url, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
            .map { line in try decoder.decode(T.self, from: Data(line.utf8)) }
    }
}
