// PEFT adapter_config.json: defaults, rsLoRA, rank/alpha patterns with PEFT's key matching,
// target_modules, and every refusal by name; then the directory loader's refusals of tensors.

import Foundation
import GGUF
import JSON
import Testing
import TestSupport
@testable import Inference

/// Parses `text` as a configuration.
private func config(_ text: String) throws -> PEFTLoRAConfig {
    try PEFTLoRAConfig(json: JSONParser.parse(text), path: "c.json")
}

/// The error parsing `text` gives, or nil.
private func configError(_ text: String) -> AdapterError? {
    do {
        _ = try PEFTLoRAConfig(json: JSONParser.parse(text), path: "c.json")
        return nil
    } catch let error as AdapterError {
        return error
    } catch {
        return .config(path: "c.json", field: "(test)", reason: "not JSON: \(error)")
    }
}

private func key(_ layer: Int, _ p: LoRAProjection) -> String { PEFTLoRAConfig.moduleKey(layer: layer, p) }

@Suite("PEFT adapter configuration")
struct PEFTConfigTests {
    @Test("PEFT's defaults, alpha / r, and alpha / √r with rsLoRA")
    func scales() throws {
        let defaults = try config("{}")
        #expect(defaults.rank == 8 && defaults.alpha == 8 && !defaults.useRSLoRA && defaults.targets == .unspecified)
        #expect(defaults.scale(forModule: key(0, .q)) == 1)
        #expect(try config(#"{"r": 16, "lora_alpha": 32}"#).scale(forModule: key(0, .q)) == 2)
        #expect(try config(#"{"r": 16, "lora_alpha": 32, "use_rslora": true}"#).scale(forModule: key(0, .q)) == 8)
        #expect(try config(#"{"r": 4, "lora_alpha": 6, "use_rslora": false}"#).scale(forModule: key(3, .down)) == 1.5)
    }

    @Test("rank and alpha patterns: first key whose regex matches a dot-separated suffix of the module key")
    func patterns() throws {
        let c = try config("""
            {"r": 8, "lora_alpha": 16,
             "rank_pattern": {"q_proj": 4, "layers\\\\.1\\\\.mlp\\\\.down_proj": 2, "model.layers.2.self_attn.k_proj": 12,
                              "self_attn\\\\.q_proj": 6, "proj": 3},
             "alpha_pattern": {"^model\\\\.layers\\\\.0\\\\..*": 1, "mlp\\\\.(gate|up)_proj": 40}}
            """)
        #expect(c.rank(forModule: key(0, .q)) == 4)            // first matching key wins over "self_attn\.q_proj"
        #expect(c.rank(forModule: key(1, .down)) == 2)
        #expect(c.rank(forModule: key(11, .down)) == 8)        // "layers\.1\." does not match layers.11
        #expect(c.rank(forModule: key(2, .k)) == 12)           // a whole key matches too
        #expect(c.rank(forModule: key(3, .k)) == 8)
        #expect(c.rank(forModule: key(0, .v)) == 8)            // "proj" must follow a dot: not a suffix of "v_proj"
        #expect(c.alpha(forModule: key(0, .o)) == 1)
        #expect(c.alpha(forModule: key(5, .up)) == 40 && c.alpha(forModule: key(5, .gate)) == 40)
        #expect(c.alpha(forModule: key(5, .down)) == 16)
        #expect(c.scale(forModule: key(0, .q)) == 0.25)         // alpha 1 / r 4
        #expect(c.scale(forModule: key(1, .up)) == 5)           // 40 / 8
        let rs = try config(#"{"r": 8, "lora_alpha": 16, "use_rslora": true, "rank_pattern": {"v_proj": 4}, "alpha_pattern": {"v_proj": 6}}"#)
        #expect(rs.scale(forModule: key(0, .v)) == 3)           // 6 / √4
        #expect(abs(rs.scale(forModule: key(0, .q)) - Float(16 / 8.0.squareRoot())) < 1e-6)
    }

    @Test("target_modules: list suffixes, whole-key regex, all-linear")
    func targets() throws {
        let list = try config(#"{"target_modules": ["q_proj", "mlp.down_proj"]}"#)
        #expect(list.targets(module: key(0, .q)) && list.targets(module: key(1, .down)))
        #expect(!list.targets(module: key(0, .k)) && !list.targets(module: key(0, .up)))
        let regex = try config(#"{"target_modules": ".*\\.(q|v)_proj"}"#)
        #expect(regex.targets == .pattern(#".*\.(q|v)_proj"#))
        #expect(regex.targets(module: key(4, .v)) && !regex.targets(module: key(4, .o)))
        #expect(!(try config(#"{"target_modules": "q_proj"}"#).targets(module: key(0, .q))))   // a regex must match the whole key
        let all = try config(#"{"target_modules": "all-linear"}"#)
        #expect(all.targets == .allLinear && all.targets(module: key(9, .gate)))
        try list.checkTargets(layers: 30)
        try regex.checkTargets(layers: 30)
    }

    @Test("targets on the embedding or output head, or on nothing, are refused by name")
    func targetRefusals() throws {
        #expect(throws: AdapterError.embeddingTarget(path: "c.json", module: "model.embed_tokens")) {
            try config(#"{"target_modules": ["q_proj", "embed_tokens"]}"#).checkTargets(layers: 2)
        }
        #expect(throws: AdapterError.embeddingTarget(path: "c.json", module: "lm_head")) {
            try config(#"{"target_modules": ["lm_head"]}"#).checkTargets(layers: 2)
        }
        #expect(throws: AdapterError.embeddingTarget(path: "c.json", module: "model.embed_tokens")) {
            try config(#"{"target_modules": ".*(embed_tokens|q_proj)"}"#).checkTargets(layers: 2)
        }
        #expect(throws: AdapterError.unknownTargetModule(path: "c.json", module: "c_attn")) {
            try config(#"{"target_modules": ["q_proj", "c_attn"]}"#).checkTargets(layers: 2)
        }
        #expect(throws: AdapterError.unknownTargetModule(path: "c.json", module: "q_proj")) {   // regex: whole key only
            try config(#"{"target_modules": "q_proj"}"#).checkTargets(layers: 2)
        }
    }

    @Test("settings this engine does not implement are refused by field", arguments: [
        (#"{"use_dora": true}"#, "use_dora"),
        (#"{"fan_in_fan_out": true}"#, "fan_in_fan_out"),
        (#"{"bias": "all"}"#, "bias"),
        (#"{"bias": "lora_only"}"#, "bias"),
        (#"{"modules_to_save": ["lm_head"]}"#, "modules_to_save"),
        (#"{"lora_bias": true}"#, "lora_bias"),
        (#"{"peft_type": "IA3"}"#, "peft_type"),
        (#"{"target_parameters": ["experts.gate_up_proj"]}"#, "target_parameters"),
        (#"{"layer_replication": [[0, 4], [2, 5]]}"#, "layer_replication"),
        (#"{"trainable_token_indices": [5, 6]}"#, "trainable_token_indices"),
        (#"{"use_qalora": true}"#, "use_qalora"),
        (#"{"alora_invocation_tokens": [1, 2]}"#, "alora_invocation_tokens"),
    ])
    func refusals(text: String, field: String) {
        guard case let .unsupported(_, found, reason)? = configError(text) else {
            Issue.record("\(text): \(String(describing: configError(text)))")
            return
        }
        #expect(found == field)
        #expect(!reason.isEmpty)
    }

    @Test("harmless values of those settings are accepted")
    func accepted() throws {
        let c = try config("""
            {"use_dora": false, "fan_in_fan_out": false, "bias": "none", "modules_to_save": null, "lora_bias": false,
             "peft_type": "LORA", "target_parameters": null, "layer_replication": null, "use_qalora": false,
             "task_type": "CAUSAL_LM", "lora_dropout": 0.05, "init_lora_weights": true, "layers_to_transform": null}
            """)
        #expect(c.rank == 8)
        #expect(try config(#"{"modules_to_save": []}"#).rank == 8)
    }

    @Test("ill-typed or out-of-range fields are named", arguments: [
        (#"{"r": "8"}"#, "r"), (#"{"r": 0}"#, "r"), (#"{"r": 2.5}"#, "r"), (#"{"lora_alpha": "x"}"#, "lora_alpha"),
        (#"{"use_rslora": "yes"}"#, "use_rslora"), (#"{"use_dora": 1}"#, "use_dora"), (#"{"bias": false}"#, "bias"),
        (#"{"target_modules": 5}"#, "target_modules"), (#"{"target_modules": ["q_proj", 1]}"#, "target_modules"),
        (#"{"target_modules": "q_proj("}"#, "target_modules"), (#"{"rank_pattern": []}"#, "rank_pattern"),
        (#"{"rank_pattern": {"q_proj": 0}}"#, "rank_pattern"), (#"{"rank_pattern": {"(": 2}}"#, "rank_pattern"),
        (#"{"alpha_pattern": {"q_proj": "a"}}"#, "alpha_pattern"), (#"[1]"#, "(document)"),
    ])
    func illTyped(text: String, field: String) {
        guard case let .config(_, found, _)? = configError(text) else {
            Issue.record("\(text): \(String(describing: configError(text)))")
            return
        }
        #expect(found == field)
    }
}

@Suite("PEFT adapter directories")
struct PEFTLoaderTests {
    /// A valid small adapter for the tiny model (q and v of both layers, r = 2).
    static func adapter(_ c: ModelConfig) -> HFAdapter {
        HFAdapter.random(config: c, projections: [.q, .v], seed: 4, rank: { _, _ in 2 }, scale: { _, _ in 2 })
    }

    /// Writes a PEFT directory with `configText` and the tensors of `writer`, then loads it.
    static func load(_ configText: String = #"{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"]}"#,
                     weights: [UInt8], model c: ModelConfig) throws(AdapterError) -> LoRAAdapter {
        let dir: TemporaryDirectory
        do {
            dir = try TemporaryDirectory("peftload")
            try dir.write("adapter_config.json", text: configText)
            try dir.write("adapter_model.safetensors", weights)
        } catch { throw .notAnAdapter(path: "(test setup)", reason: "\(error)") }
        defer { dir.cleanup() }
        return try LoRAAdapter.loadPEFT(directory: dir.path, config: c)
    }

    /// The safetensors bytes of the valid adapter plus extra tensors from `extra`.
    static func weights(_ c: ModelConfig, extra: (inout SafetensorsWriter) -> Void = { _ in }) -> [UInt8] {
        var writer = SafetensorsWriter()
        for module in adapter(c).modules {
            let stem = "base_model.model." + module.key
            writer.add(name: stem + ".lora_A.weight", shape: [2, module.a.count / 2], values: module.a)
            writer.add(name: stem + ".lora_B.weight", shape: [module.b.count / 2, 2], values: module.b)
        }
        extra(&writer)
        return writer.serialize()
    }

    /// The description of the error `body` throws (with the directory removed), or "no error".
    static func failure(_ body: () throws(AdapterError) -> LoRAAdapter) -> String {
        do {
            _ = try body()
            return "no error"
        } catch { return "\(error)" }
    }

    @Test("a valid directory loads, in F32, F16 and BF16, with q rows permuted and v rows as they are")
    func loads() throws {
        let c = try tinyModel().model.config
        let hf = Self.adapter(c)
        for dtype in [SafetensorsDType.f32, .f16, .bf16] {
            let loaded = try Self.load(weights: hf.safetensors(dtype: dtype), model: c)
            let q = try #require(loaded.layers[1][.q]), v = try #require(loaded.layers[1][.v])
            #expect(q.scale == 2 && q.rank == 2 && loaded.layers[1][.k] == nil)
            let hfQ = try #require(hf.modules.first { $0.layer == 1 && $0.projection == .q }).b
            let hfV = try #require(hf.modules.first { $0.layer == 1 && $0.projection == .v }).b
            let tolerance: Float = dtype == .f32 ? 0 : dtype == .f16 ? 1e-3 : 1e-2
            let wantQ = gatherRows(hfQ, cols: 2) { huggingFaceRow(ofGGUFRow: $0, headDim: c.headDim) }
            #expect(worstDifference(q.b, wantQ) <= tolerance, "\(dtype)")
            #expect(worstDifference(v.b, hfV) <= tolerance, "\(dtype)")
        }
    }

    @Test("tensors the engine cannot apply are refused by name", arguments: [
        ("base_model.model.model.embed_tokens.lora_embedding_A", [2, 80], "model.embed_tokens"),
        ("base_model.model.lm_head.lora_A.weight", [2, 64], "lm_head"),
        ("base_model.model.model.layers.0.self_attn.rotary.lora_A.weight", [2, 64], "does not name a projection"),
        ("base_model.model.model.layers.0.mlp.q_proj.lora_A.weight", [2, 64], "does not name a projection"),
        ("base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight", [2, 64], "layer 2, but the model has 2 layers"),
        ("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", [64], "'use_dora' is not supported"),
        ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", [64], "'lora_bias' is not supported"),
        ("base_model.model.model.layers.0.self_attn.q_proj.weight", [64, 64], "not a lora_A or lora_B weight"),
        ("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", [2, 64], "not selected by target_modules"),
    ])
    func tensorRefusals(name: String, shape: [Int], mention: String) throws {
        let c = try tinyModel().model.config
        let weights = Self.weights(c) { $0.add(name: name, shape: shape, values: .init(repeating: 0.1, count: shape.reduce(1, *))) }
        let message = Self.failure { () throws(AdapterError) in try Self.load(weights: weights, model: c) }
        #expect(message.contains(mention), "\(message)")
    }

    @Test("shape, rank, pairing, values and files are checked with named errors")
    func checks() throws {
        let c = try tinyModel().model.config
        let load = { (config: String, weights: [UInt8]) in
            Self.failure { () throws(AdapterError) in try Self.load(config, weights: weights, model: c) }
        }
        let qv = #"{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj", "o_proj", "down_proj"]}"#
        let stem = "base_model.model.model.layers.0."
        var message = load(qv, Self.weights(c) {
            $0.add(name: stem + "self_attn.o_proj.lora_A.weight", shape: [2, 32], values: .init(repeating: 0, count: 64))
            $0.add(name: stem + "self_attn.o_proj.lora_B.weight", shape: [64, 2], values: .init(repeating: 0, count: 128))
        })
        #expect(message.contains("'\(stem)self_attn.o_proj.lora_A.weight' has shape [2, 32], the model needs [2, 64]"), "\(message)")
        message = load(qv, Self.weights(c) {
            $0.add(name: stem + "mlp.down_proj.lora_A.weight", shape: [2, 96], values: .init(repeating: 0, count: 192))
            $0.add(name: stem + "mlp.down_proj.lora_B.weight", shape: [96, 2], values: .init(repeating: 0, count: 192))
        })
        #expect(message.contains("'\(stem)mlp.down_proj.lora_B.weight' has shape [96, 2], the model needs [64, 2]"), "\(message)")
        message = load(qv, Self.weights(c) {
            $0.add(name: stem + "self_attn.o_proj.lora_A.weight", shape: [3, 64], values: .init(repeating: 0, count: 192))
            $0.add(name: stem + "self_attn.o_proj.lora_B.weight", shape: [64, 3], values: .init(repeating: 0, count: 192))
        })
        #expect(message.contains("rank of 'model.layers.0.self_attn.o_proj' disagrees: configured 2, A has 3 rows, B has 3 columns"), "\(message)")
        message = load(#"{"r": 2, "lora_alpha": 4, "rank_pattern": {"o_proj": 3}}"#, Self.weights(c) {
            $0.add(name: stem + "self_attn.o_proj.lora_A.weight", shape: [3, 64], values: .init(repeating: 0, count: 192))
            $0.add(name: stem + "self_attn.o_proj.lora_B.weight", shape: [64, 3], values: .init(repeating: 0, count: 192))
        })
        #expect(message == "no error", "\(message)")   // the rank pattern makes rank 3 the configured one
        message = load(qv, Self.weights(c) {
            $0.add(name: stem + "self_attn.o_proj.lora_A.weight", shape: [2, 64], values: .init(repeating: 0, count: 128))
        })
        #expect(message.contains("'\(stem)self_attn.o_proj.lora_B.weight' is missing"), "\(message)")
        message = load(qv, Self.weights(c) {
            $0.add(name: stem + "self_attn.o_proj.lora_A.weight", shape: [2, 64], values: [.nan] + .init(repeating: 0, count: 127))
            $0.add(name: stem + "self_attn.o_proj.lora_B.weight", shape: [64, 2], values: .init(repeating: 0, count: 128))
        })
        #expect(message.contains("o_proj.lora_A' holds NaN or infinity"), "\(message)")
        message = load(qv, Array(Self.weights(c).dropLast(5)))
        #expect(message.contains("outside the"), "\(message)")
        message = load("{\"r\": 2,", Self.weights(c))
        #expect(message.contains("field '(document)': not valid JSON"), "\(message)")
        message = load(#"{"r": 2, "use_dora": true}"#, Self.weights(c))
        #expect(message.contains("'use_dora' is not supported"), "\(message)")
        var empty = SafetensorsWriter()
        empty.addMetadata("format", "pt")
        message = load(qv, empty.serialize())
        #expect(message.contains("has no LoRA tensors"), "\(message)")
    }

    @Test("load(path:) takes a directory, the safetensors file in one, or a GGUF file; anything else is named")
    func dispatch() throws {
        let c = try tinyModel().model.config
        let dir = try TemporaryDirectory("dispatch")
        defer { dir.cleanup() }
        try dir.write("adapter_config.json", text: #"{"r": 2, "lora_alpha": 4}"#)
        let weights = try dir.write("adapter_model.safetensors", Self.adapter(c).safetensors())
        let gguf = try dir.write("a.gguf", Self.adapter(c).gguf(config: c, alpha: 4))
        let other = try dir.write("notes.txt", text: "hello")
        #expect(try LoRAAdapter.load(path: dir.path, config: c).projections == [.q, .v])
        #expect(try LoRAAdapter.load(path: weights, config: c).projections == [.q, .v])
        #expect(try LoRAAdapter.load(path: gguf, config: c).projections == [.q, .v])
        #expect(throws: AdapterError.notAnAdapter(path: other, reason: "not a directory, a .safetensors file or a GGUF file")) {
            try LoRAAdapter.load(path: other, config: c)
        }
        #expect(throws: AdapterError.notAnAdapter(path: dir.path + "/missing", reason: "no such file or directory")) {
            try LoRAAdapter.load(path: dir.path + "/missing", config: c)
        }
        let bin = try TemporaryDirectory("bin")
        defer { bin.cleanup() }
        try bin.write("adapter_config.json", text: "{}")
        try bin.write("adapter_model.bin", [0, 1, 2])
        #expect(throws: AdapterError.unsupported(path: bin.path, field: "adapter_model.bin",
                                                 reason: "pickled PyTorch weights are not read; save the adapter with safetensors")) {
            try LoRAAdapter.load(path: bin.path, config: c)
        }
        let bare = try TemporaryDirectory("bare")
        defer { bare.cleanup() }
        #expect(throws: AdapterError.notAnAdapter(path: bare.path, reason: "no adapter_config.json in the directory")) {
            try LoRAAdapter.load(path: bare.path, config: c)
        }
    }
}
