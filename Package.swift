// swift-tools-version:6.0
// ToolRouter: natural-language request → validated tool call, on a small GGUF model, on the CPU.
import PackageDescription

/// Hot numeric code is compiled for the Haswell level (AVX2, FMA, F16C): every machine of the
/// project's kind has it, and without it Swift emits SSE2-only code for the SIMD kernels.
let simdSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-march=haswell", "-target-cpu", "haswell"], .when(platforms: [.linux])),
]

let package = Package(
    name: "ToolRouter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "toolrouter", targets: ["toolrouter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // OpenBLAS, from Debian's libopenblas-dev (cblas_sgemm for prefill).
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "pkg-config"])]
        ),
        // File formats: GGUF container, ggml tensor types and their block layouts; safetensors.
        .target(name: "GGUF", dependencies: ["JSON"]),
        // Byte-level BPE tokenizer and chat templates, read from GGUF metadata.
        .target(name: "Tokenizer", dependencies: ["GGUF"]),
        // Quantised kernels, Llama forward pass, KV cache, greedy decoding, LoRA adapters.
        // A software prefetch hint for the decode kernels (Swift has none).
        .target(name: "CPrefetch"),
        .target(name: "Inference", dependencies: ["GGUF", "JSON", "COpenBLAS", "CPrefetch"], swiftSettings: simdSettings),
        // JSON values that keep member order; parser and canonical writer.
        .target(name: "JSON"),
        // Grammar IR shared by constrained decoding; GBNF parser and printer.
        .target(name: "Grammar"),
        // JSON Schema → grammar compiler (with a regex compiler for `pattern`).
        .target(name: "SchemaGrammar", dependencies: ["JSON", "Grammar"]),
        // Grammar → byte-level pushdown automaton → per-token matching, masks, jump-forward.
        .target(name: "TokenMatcher", dependencies: ["Grammar"], swiftSettings: simdSettings),
        // Tool catalogues, prompt rendering, canonical call serialiser, schema validation, catalogue fingerprints.
        .target(name: "ToolCalls", dependencies: ["JSON", "Grammar", "SchemaGrammar", "Tokenizer",
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        // Training data from a catalogue and a few examples: slots, frames, carriers, value pools, no_tool rows.
        .target(name: "Synthesis", dependencies: ["JSON", "ToolCalls", "SchemaGrammar"]),
        // Distillation client: asks an OpenAI-compatible chat endpoint for more training rows, judges them.
        .target(name: "Teacher", dependencies: ["JSON", "ToolCalls", "Synthesis"]),
        // The request pipeline: prompt → tokens → constrained decode → parse → validate.
        .target(name: "Router", dependencies: ["Inference", "TokenMatcher", "Tokenizer", "Grammar", "ToolCalls", "SchemaGrammar", "JSON"]),
        // `toolrouter train` after the rows exist: rendered rows with decision weights, the trainer's venv and
        // process, progress display, the adapter card.
        .target(name: "Training", dependencies: ["JSON", "Tokenizer", "ToolCalls", "ProcessSpawn"]),
        // Child processes started with a clean signal state and optional pipes (trainer, pip, MCP servers).
        .target(name: "ProcessSpawn"),
        // OpenAI's chat-completions shapes: a request read strictly (every parameter honoured or refused),
        // answers as a completion or server-sent chunks, the error object. No transport.
        .target(name: "OpenAIAPI", dependencies: ["JSON", "ToolCalls"]),
        // Benchmark reports as pictures: a concurrency sweep as an SVG chart.
        .target(name: "BenchCharts", dependencies: ["JSON"]),
        // The long-running service: the protocol-neutral core, its JSON-RPC and OpenAI HTTP adapters,
        // configuration, sockets, handlers.
        .target(name: "Daemon", dependencies: [
            "JSON", "Router", "ToolCalls", "Inference", "Tokenizer", "OpenAIAPI", "ProcessSpawn",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The `toolrouter` command line.
        .executableTarget(
            name: "toolrouter",
            dependencies: [
                "GGUF", "Tokenizer", "Inference", "JSON", "Grammar", "SchemaGrammar", "TokenMatcher", "ToolCalls", "Router", "Daemon", "Synthesis", "Teacher", "Training", "BenchCharts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers shared by the test targets (seeded randomness, fixture paths).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "JSON"]),
        .testTarget(name: "TokenizerTests", dependencies: ["TestSupport", "Tokenizer", "GGUF"], resources: [.copy("Fixtures")]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "GrammarTests", dependencies: ["TestSupport", "Grammar"]),
        .testTarget(name: "SchemaGrammarTests", dependencies: ["SchemaGrammar", "JSON", "Grammar"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenMatcherTests", dependencies: ["TestSupport", "TokenMatcher", "Grammar", "Tokenizer", "GGUF"]),
        .testTarget(name: "ToolCallsTests", dependencies: ["ToolCalls", "JSON", "Grammar", "SchemaGrammar"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RouterTests", dependencies: ["TestSupport", "Router", "Inference", "TokenMatcher", "Grammar", "Tokenizer", "GGUF",
                                                       "ToolCalls", "SchemaGrammar", "JSON"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PropertyTests", dependencies: ["TestSupport", "SchemaGrammar", "ToolCalls", "JSON", "Grammar", "TokenMatcher", "Tokenizer", "GGUF"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "JSON", "TestSupport", "Router", "Inference", "GGUF", "Tokenizer", "ToolCalls",
                                                       .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SynthesisTests", dependencies: ["Synthesis", "ToolCalls", "JSON", "SchemaGrammar", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["TestSupport", "Training", "ToolCalls", "Tokenizer", "GGUF", "JSON"]),
        .testTarget(name: "TeacherTests", dependencies: ["TestSupport", "Teacher", "Synthesis", "ToolCalls", "JSON"]),
        .testTarget(name: "OpenAIAPITests", dependencies: ["OpenAIAPI", "JSON", "ToolCalls"]),
        .testTarget(name: "BenchChartsTests", dependencies: ["BenchCharts", "JSON"]),
        .testTarget(name: "InferenceTests", dependencies: ["TestSupport", "Inference", "GGUF", "Tokenizer", "JSON"], resources: [.copy("Fixtures")]),
    ]
)
