// Loading a PEFT LoRA adapter directory: adapter_config.json + adapter_model.safetensors.
//
// Tensor names: base_model.model.model.layers.<N>.self_attn.{q,k,v,o}_proj.lora_{A,B}.weight and
// base_model.model.model.layers.<N>.mlp.{gate,up,down}_proj.lora_{A,B}.weight, A [r, in], B [out, r].
//
// For llama the GGUF converter permuted the rows of attn_q and attn_k so that RoPE rotates adjacent
// pairs; the same permutation is applied here to the rows of the q and k B matrices (A acts on the
// input side, which was not permuted): per head h and i < hd/2, j ∈ {0, 1},
//     Hugging Face row h·hd + j·(hd/2) + i  →  GGUF row h·hd + 2i + j.
// Families whose converter keeps Hugging Face's row order (NEOX RoPE: Qwen2, Qwen3, Gemma 3) take the
// B matrices as trained (`ArchitectureTraits.permutesQKRows`).

import Foundation
import GGUF

extension LoRAAdapter {
    /// Loads the PEFT adapter in `directory` for a model shaped by `config`. `weightsFile` is the
    /// safetensors file inside it (default `adapter_model.safetensors`).
    public static func loadPEFT(directory: String, config: ModelConfig,
                                weightsFile: String = "adapter_model.safetensors") throws(AdapterError) -> LoRAAdapter {
        let base = directory.isEmpty ? "." : directory
        let configPath = base + "/adapter_config.json"
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw .notAnAdapter(path: base, reason: "no adapter_config.json in the directory")
        }
        let peft = try PEFTLoRAConfig(path: configPath)
        try peft.checkTargets(layers: config.layers)
        let weightsPath = base + "/" + weightsFile
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            if FileManager.default.fileExists(atPath: base + "/adapter_model.bin") {
                throw .unsupported(path: base, field: "adapter_model.bin", reason: "pickled PyTorch weights are not read; save the adapter with safetensors")
            }
            throw .notAnAdapter(path: base, reason: "no \(weightsFile) in the directory")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath) } catch { throw .safetensors(path: weightsPath, error) }
        return try build(file, peft: peft, config: config, path: weightsPath)
    }

    /// Loads a PEFT adapter from a configuration and safetensors file already in memory; `path`
    /// names them in errors.
    public static func loadPEFT(config peft: PEFTLoRAConfig, weights file: SafetensorsFile, model config: ModelConfig,
                                path: String = "memory") throws(AdapterError) -> LoRAAdapter {
        try peft.checkTargets(layers: config.layers)
        return try build(file, peft: peft, config: config, path: path)
    }

    /// Pairs the A and B tensors by module, checks them against the model and the configuration,
    /// and converts them to the model's layout.
    private static func build(_ file: SafetensorsFile, peft: PEFTLoRAConfig, config: ModelConfig,
                              path: String) throws(AdapterError) -> LoRAAdapter {
        var pairs: [ModuleID: (a: SafetensorsTensorInfo?, b: SafetensorsTensorInfo?)] = [:]
        for tensor in file.tensors {
            let (module, isA) = try parseName(tensor.name, layers: config.layers, path: path)
            let key = PEFTLoRAConfig.moduleKey(layer: module.layer, module.projection)
            guard peft.targets(module: key) else {
                throw .unexpectedTensor(path: path, tensor: tensor.name, reason: "module '\(key)' is not selected by target_modules")
            }
            var pair = pairs[module] ?? (nil, nil)
            if isA { pair.a = tensor } else { pair.b = tensor }
            pairs[module] = pair
        }
        guard !pairs.isEmpty else { throw .empty(path: path) }

        var layers = [LoRALayer](repeating: LoRALayer(), count: config.layers)
        for (module, pair) in pairs.sorted(by: { ($0.key.layer, $0.key.projection.rawValue) < ($1.key.layer, $1.key.projection.rawValue) }) {
            let key = PEFTLoRAConfig.moduleKey(layer: module.layer, module.projection)
            let stem = "base_model.model." + key
            guard let a = pair.a else { throw .missingTensor(path: path, tensor: stem + ".lora_A.weight") }
            guard let b = pair.b else { throw .missingTensor(path: path, tensor: stem + ".lora_B.weight") }
            let (outputs, inputs) = module.projection.shape(config)
            let rank = peft.rank(forModule: key)
            guard a.shape.count == 2 else { throw .shape(path: path, tensor: a.name, expected: [rank, inputs], found: a.shape) }
            guard b.shape.count == 2 else { throw .shape(path: path, tensor: b.name, expected: [outputs, rank], found: b.shape) }
            guard a.shape[0] == rank, b.shape[1] == rank else {
                throw .rankMismatch(path: path, module: key, expected: rank, a: a.shape[0], b: b.shape[1])
            }
            guard a.shape[1] == inputs else { throw .shape(path: path, tensor: a.name, expected: [rank, inputs], found: a.shape) }
            guard b.shape[0] == outputs else { throw .shape(path: path, tensor: b.name, expected: [outputs, rank], found: b.shape) }
            let aValues: [Float], bValues: [Float]
            do {
                aValues = try file.floats(of: a)
                bValues = try file.floats(of: b)
            } catch { throw .safetensors(path: path, error) }
            let permuted: [Float]
            switch module.projection {
            case .q where config.traits.permutesQKRows:
                permuted = try ropeRowOrder(bValues, rank: rank, heads: config.heads, path: path, tensor: b.name)
            case .k where config.traits.permutesQKRows:
                permuted = try ropeRowOrder(bValues, rank: rank, heads: config.kvHeads, path: path, tensor: b.name)
            default: permuted = bValues
            }
            layers[module.layer][module.projection] = try LoRAWeights(
                name: stem, rank: rank, inputs: inputs, outputs: outputs, a: aValues, b: permuted,
                scale: peft.scale(forModule: key), source: path)
        }
        return try LoRAAdapter(config: config, layers: layers, source: path)
    }

    /// Moves the rows of a q or k matrix `[heads · hd, rank]` from Hugging Face's rotate-half order
    /// to the GGUF's adjacent-pair order: HF row h·hd + j·(hd/2) + i goes to row h·hd + 2i + j.
    static func ropeRowOrder(_ matrix: [Float], rank: Int, heads: Int, path: String, tensor: String) throws(AdapterError) -> [Float] {
        let rows = matrix.count / rank
        guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0 else {
            throw .unsupported(path: path, field: tensor, reason: "\(rows) rows do not split into \(heads) heads of even size")
        }
        let hd = rows / heads, half = hd / 2
        var out = [Float](repeating: 0, count: matrix.count)
        for h in 0..<heads {
            for j in 0..<2 {
                for i in 0..<half {
                    let from = (h * hd + j * half + i) * rank, to = (h * hd + 2 * i + j) * rank
                    for c in 0..<rank { out[to + c] = matrix[from + c] }
                }
            }
        }
        return out
    }

    /// One adapted module: block index and projection.
    private struct ModuleID: Hashable {
        let layer: Int
        let projection: LoRAProjection
    }

    /// Reads `base_model.model.model.layers.<N>.<parent>.<proj>.lora_<A|B>.weight`; refuses every other name by cause.
    private static func parseName(_ name: String, layers: Int, path: String) throws(AdapterError) -> (ModuleID, isA: Bool) {
        if name.contains("lora_embedding_") || name.contains("embed_tokens") {
            throw .embeddingTarget(path: path, module: "model.embed_tokens")
        }
        if name.hasPrefix("base_model.model.lm_head.") { throw .embeddingTarget(path: path, module: "lm_head") }
        if name.hasSuffix(".lora_magnitude_vector") || name.contains(".lora_magnitude_vector.") {
            throw .unsupported(path: path, field: "use_dora", reason: "tensor '\(name)' is a DoRA magnitude vector")
        }
        let isA: Bool
        let stem: Substring
        if name.hasSuffix(".lora_A.weight") {
            isA = true
            stem = name.dropLast(".lora_A.weight".count)
        } else if name.hasSuffix(".lora_B.weight") {
            isA = false
            stem = name.dropLast(".lora_B.weight".count)
        } else if name.hasSuffix(".lora_B.bias") {
            throw .unsupported(path: path, field: "lora_bias", reason: "tensor '\(name)' is a bias on LoRA's B matrix")
        } else {
            throw .unexpectedTensor(path: path, tensor: name, reason: "not a lora_A or lora_B weight")
        }
        let parts = stem.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "base_model", parts[1] == "model", parts[2] == "model", parts[3] == "layers",
              let layer = Int(parts[4]), layer >= 0, String(layer) == parts[4],
              let projection = LoRAProjection.allCases.first(where: { $0.peftName == parts[6] && $0.peftParent == parts[5] })
        else {
            throw .unexpectedTensor(path: path, tensor: name,
                                    reason: "does not name a projection of a transformer block (base_model.model.model.layers.N.self_attn|mlp.*_proj)")
        }
        guard layer < layers else { throw .layerOutOfRange(path: path, tensor: name, layer: layer, layers: layers) }
        return (ModuleID(layer: layer, projection: projection), isA)
    }
}
