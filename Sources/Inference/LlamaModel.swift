// A loaded Llama model: configuration plus weights viewed in place in the GGUF memory map.

import GGUF

/// One transformer block's weights.
public struct LayerWeights: Sendable {
    /// RMSNorm gain before attention, `[dim]`.
    public let attentionNorm: [Float]
    /// Query projection `[dim, dim]`.
    public let wq: WeightMatrix
    /// Key projection `[kvDim, dim]`.
    public let wk: WeightMatrix
    /// Value projection `[kvDim, dim]`.
    public let wv: WeightMatrix
    /// Attention output projection `[dim, dim]`.
    public let wo: WeightMatrix
    /// RMSNorm gain before the feed-forward block, `[dim]`.
    public let ffnNorm: [Float]
    /// SwiGLU gate `[ffnDim, dim]`.
    public let wGate: WeightMatrix
    /// SwiGLU up `[ffnDim, dim]`.
    public let wUp: WeightMatrix
    /// SwiGLU down `[dim, ffnDim]`.
    public let wDown: WeightMatrix
}

/// A Llama-architecture model loaded from GGUF. Immutable and shareable; the per-sequence state
/// lives in a `KVCache` and the per-call buffers in a `Transformer`.
public final class LlamaModel: Sendable {
    /// The open GGUF file; the weight matrices point into its memory map.
    public let file: GGUFFile
    /// Shape of the network.
    public let config: ModelConfig
    /// Token embedding table `[vocab, dim]`.
    public let embedding: WeightMatrix
    /// Output head `[vocab, dim]`: `output.weight`, or the embedding table when tied.
    public let output: WeightMatrix
    /// Final RMSNorm gain `[dim]`.
    public let outputNorm: [Float]
    /// Transformer blocks, in order.
    public let layers: [LayerWeights]

    /// Opens and maps `path`, reads the configuration and checks every tensor's shape.
    public convenience init(path: String) throws(InferenceError) {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .file(error) }
        try self.init(file: file)
    }

    /// Builds the model over an already opened GGUF file.
    public init(file: GGUFFile) throws(InferenceError) {
        self.file = file
        let c = try ModelConfig(file: file)
        config = c
        embedding = try WeightMatrix(file, "token_embd.weight", rows: c.vocabularySize, cols: c.dim)
        output = file.tensor(named: "output.weight") == nil
            ? embedding
            : try WeightMatrix(file, "output.weight", rows: c.vocabularySize, cols: c.dim)
        outputNorm = try Self.vector(file, "output_norm.weight", count: c.dim)
        var layers: [LayerWeights] = []
        for i in 0..<c.layers {
            let p = "blk.\(i)."
            layers.append(LayerWeights(
                attentionNorm: try Self.vector(file, p + "attn_norm.weight", count: c.dim),
                wq: try WeightMatrix(file, p + "attn_q.weight", rows: c.dim, cols: c.dim),
                wk: try WeightMatrix(file, p + "attn_k.weight", rows: c.kvDim, cols: c.dim),
                wv: try WeightMatrix(file, p + "attn_v.weight", rows: c.kvDim, cols: c.dim),
                wo: try WeightMatrix(file, p + "attn_output.weight", rows: c.dim, cols: c.dim),
                ffnNorm: try Self.vector(file, p + "ffn_norm.weight", count: c.dim),
                wGate: try WeightMatrix(file, p + "ffn_gate.weight", rows: c.ffnDim, cols: c.dim),
                wUp: try WeightMatrix(file, p + "ffn_up.weight", rows: c.ffnDim, cols: c.dim),
                wDown: try WeightMatrix(file, p + "ffn_down.weight", rows: c.dim, cols: c.ffnDim)))
        }
        self.layers = layers
    }

    /// A model from parts already checked against `config` (a merged copy of another model).
    init(file: GGUFFile, config: ModelConfig, embedding: WeightMatrix, output: WeightMatrix, outputNorm: [Float],
         layers: [LayerWeights]) {
        self.file = file
        self.config = config
        self.embedding = embedding
        self.output = output
        self.outputNorm = outputNorm
        self.layers = layers
    }

    /// Reads a 1-D tensor of `count` values (any supported type) as float32.
    private static func vector(_ file: GGUFFile, _ name: String, count: Int) throws(InferenceError) -> [Float] {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        guard info.dims == [count] else { throw .tensorShape(name: name, expected: [count], found: info.dims) }
        var out = [Float](repeating: 0, count: count)
        let data = file.data(of: info)
        do {
            try out.withUnsafeMutableBufferPointer { buffer throws(GGUFError) in
                guard let base = buffer.baseAddress else { return }
                try Dequantize.run(info.type, from: data, count: count, into: base)
            }
        } catch { throw .file(error) }
        return out
    }
}
