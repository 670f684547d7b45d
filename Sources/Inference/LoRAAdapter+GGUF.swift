// Loading a LoRA adapter in GGUF, as llama.cpp's convert_lora_to_gguf.py writes it.
//
// Metadata: general.type = "adapter", adapter.type = "lora", adapter.lora.alpha (float32),
// general.architecture (must be the model's). Tensors: blk.<N>.<stem>.weight.lora_a with GGUF dims
// [in, rank] (A [rank, in] row-major) and blk.<N>.<stem>.weight.lora_b with dims [rank, out]
// (B [out, rank]); the converter runs the model's own tensor conversion on B, so the q and k rows
// are already in the GGUF (RoPE-permuted) order and are used as they are.
//
// Scale, as llama.cpp computes it (llama_adapter_lora_weight::get_scale): alpha / rank with rank
// = the columns of B, or 1 when alpha is 0 or absent. The converter writes PEFT's lora_alpha and
// ignores use_rslora, rank_pattern and alpha_pattern, so such adapters are mis-scaled in GGUF form
// (in llama.cpp too); load them from the PEFT directory instead.

import GGUF

extension LoRAAdapter {
    /// Loads the GGUF adapter file at `path` for a model shaped by `config`.
    public static func loadGGUF(path: String, config: ModelConfig) throws(AdapterError) -> LoRAAdapter {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .gguf(path: path, error) }
        return try loadGGUF(file: file, config: config, path: path)
    }

    /// Loads a GGUF adapter from an opened file; `path` names it in errors.
    public static func loadGGUF(file: GGUFFile, config: ModelConfig, path: String = "memory") throws(AdapterError) -> LoRAAdapter {
        guard let type = file.string("general.type") else {
            throw .metadata(path: path, key: "general.type", reason: "missing or not a string (expected \"adapter\")")
        }
        guard type == "adapter" else { throw .metadata(path: path, key: "general.type", reason: "is '\(type)', expected 'adapter'") }
        guard let adapterType = file.string("adapter.type") else {
            throw .metadata(path: path, key: "adapter.type", reason: "missing or not a string (expected \"lora\")")
        }
        guard adapterType == "lora" else {
            throw .metadata(path: path, key: "adapter.type", reason: "is '\(adapterType)', only 'lora' is supported")
        }
        guard let architecture = file.string("general.architecture") else {
            throw .metadata(path: path, key: "general.architecture", reason: "missing or not a string")
        }
        guard architecture == config.architecture else {
            throw .architectureMismatch(path: path, adapter: architecture, model: config.architecture)
        }
        if file["adapter.lora.alpha"] != nil && file.float("adapter.lora.alpha") == nil {
            throw .metadata(path: path, key: "adapter.lora.alpha", reason: "is not a number")
        }
        let alpha = file.float("adapter.lora.alpha") ?? 0
        guard alpha.isFinite else { throw .metadata(path: path, key: "adapter.lora.alpha", reason: "is not finite") }
        if file["adapter.alora.invocation_tokens"] != nil {
            throw .unsupported(path: path, field: "adapter.alora.invocation_tokens", reason: "activated LoRA (aLoRA) is not implemented")
        }

        var pairs: [String: (a: GGUFTensorInfo?, b: GGUFTensorInfo?)] = [:]
        for tensor in file.tensors {
            let isA: Bool
            if tensor.name.hasSuffix(".lora_a") { isA = true } else if tensor.name.hasSuffix(".lora_b") { isA = false } else {
                throw .unexpectedTensor(path: path, tensor: tensor.name, reason: "not a .lora_a or .lora_b tensor")
            }
            let base = String(tensor.name.dropLast(".lora_a".count))
            var pair = pairs[base] ?? (nil, nil)
            if isA { pair.a = tensor } else { pair.b = tensor }
            pairs[base] = pair
        }
        guard !pairs.isEmpty else { throw .empty(path: path) }

        var layers = [LoRALayer](repeating: LoRALayer(), count: config.layers)
        for (base, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            let (layer, projection) = try parseName(base, layers: config.layers, path: path)
            guard let a = pair.a else { throw .missingTensor(path: path, tensor: base + ".lora_a") }
            guard let b = pair.b else { throw .missingTensor(path: path, tensor: base + ".lora_b") }
            let (outputs, inputs) = projection.shape(config)
            // GGUF dims are innermost first: lora_a is [in, rank], lora_b is [rank, out].
            guard a.dims.count == 2 else { throw .shape(path: path, tensor: a.name, expected: [-1, inputs], found: a.dims.reversed()) }
            guard b.dims.count == 2 else { throw .shape(path: path, tensor: b.name, expected: [outputs, -1], found: b.dims.reversed()) }
            let rank = b.dims[0]
            guard a.dims[1] == rank else { throw .rankMismatch(path: path, module: base, expected: rank, a: a.dims[1], b: rank) }
            guard a.dims[0] == inputs else { throw .shape(path: path, tensor: a.name, expected: [rank, inputs], found: a.dims.reversed()) }
            guard b.dims[1] == outputs else { throw .shape(path: path, tensor: b.name, expected: [outputs, rank], found: b.dims.reversed()) }
            let aValues: [Float], bValues: [Float]
            do {
                aValues = try Dequantize.row(a, in: file)
                bValues = try Dequantize.row(b, in: file)
            } catch { throw .gguf(path: path, error) }
            let scale = alpha == 0 ? Float(1) : Float(alpha / Double(rank))
            layers[layer][projection] = try LoRAWeights(
                name: base, rank: rank, inputs: inputs, outputs: outputs, a: aValues, b: bValues, scale: scale, source: path)
        }
        return try LoRAAdapter(config: config, layers: layers, source: path)
    }

    /// Reads `blk.<N>.<stem>.weight`; refuses the embedding, the output head and anything else by cause.
    private static func parseName(_ base: String, layers: Int, path: String) throws(AdapterError) -> (Int, LoRAProjection) {
        if base == "token_embd.weight" || base == "output.weight" { throw .embeddingTarget(path: path, module: base) }
        let parts = base.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", parts[3] == "weight",
              let layer = Int(parts[1]), layer >= 0, String(layer) == parts[1],
              let projection = LoRAProjection.allCases.first(where: { $0.ggufName == parts[2] })
        else {
            throw .unexpectedTensor(path: path, tensor: base, reason: "does not name a projection of a Llama block (blk.N.attn_q ... ffn_down)")
        }
        guard layer < layers else { throw .layerOutOfRange(path: path, tensor: base, layer: layer, layers: layers) }
        return (layer, projection)
    }
}
