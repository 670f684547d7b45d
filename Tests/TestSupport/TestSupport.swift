// Shared by the test targets: a seeded random generator and the paths of the repo's fixtures.

import Foundation

/// SplitMix64: a small deterministic generator, so every randomised test reproduces from its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where the tests find the package and the default model.
public enum TestPaths {
    /// The package root (this file is Tests/TestSupport/TestSupport.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$TOOLROUTER_MODEL`, else `<package root>/models/SmolLM2-135M-Instruct.Q4_1.gguf` (installed by scripts/setup).
    public static let model: String = {
        if let env = ProcessInfo.processInfo.environment["TOOLROUTER_MODEL"], !env.isEmpty { return env }
        return packageRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    }()

    /// The `toolrouter` executable built beside the running test binary (`swift test` builds it too), or
    /// `$TOOLROUTER_BINARY` when set (to run the same scenarios against another build, e.g. an earlier revision's).
    public static func toolrouterBinary() throws -> String {
        if let override = ProcessInfo.processInfo.environment["TOOLROUTER_BINARY"], !override.isEmpty { return override }
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // The test binary may sit inside a bundle (`X.xctest/...`); walk up to the build directory.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("toolrouter").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw MissingBinary(near: testBinary.path)
    }

    /// The `toolrouter` executable was not built.
    public struct MissingBinary: Error, CustomStringConvertible {
        public let near: String
        public var description: String { "no toolrouter executable near \(near): build the package (swift build) first" }
    }

    /// `$TOOLROUTER_GEMMA_MODEL`, else `<package root>/models/gemma-3-270m-q4_k_m.gguf` (installed by
    /// `scripts/setup --model gemma3-270m`, which `scripts/test` runs).
    public static let gemmaModel: String = {
        if let env = ProcessInfo.processInfo.environment["TOOLROUTER_GEMMA_MODEL"], !env.isEmpty { return env }
        return packageRoot.appendingPathComponent("models/gemma-3-270m-q4_k_m.gguf").path
    }()

    /// The Gemma 3 270M path, or an error telling how to install it (tests fail, never skip, without it).
    public static func requireGemmaModel() throws -> String {
        guard FileManager.default.fileExists(atPath: gemmaModel) else {
            throw MissingModel(path: gemmaModel, setup: "scripts/setup --model gemma3-270m")
        }
        return gemmaModel
    }

    /// The model path, or an error telling how to install it (tests fail, never skip, without it).
    public static func requireModel() throws -> String {
        guard FileManager.default.fileExists(atPath: model) else { throw MissingModel(path: model) }
        return model
    }

    /// The default model is not installed.
    public struct MissingModel: Error, CustomStringConvertible {
        public let path: String
        public var setup = "scripts/setup"
        public var description: String { "model not found at \(path): run \(setup) first" }
    }
}
