// A loaded model's weights, viewed in place in the GGUF memory map: the configuration (ModelConfig),
// the weights (here) and the run state (Transformer, KVCache) are kept apart, as in llama2.c.

import GGUF

/// One transformer block's weights. The optional tensors exist exactly when the family's traits
/// say so (checked at load). Shapes: d = dim, q = qDim, kv = kvDim, f = ffnDim, hd = headDim.
public struct LayerWeights: Sendable {
    /// RMSNorm gain before attention, `[d]`.
    public let attentionNorm: [Float]
    /// Query projection `[q, d]`.
    public let wq: WeightMatrix
    /// Key projection `[kv, d]`.
    public let wk: WeightMatrix
    /// Value projection `[kv, d]`.
    public let wv: WeightMatrix
    /// Query, key and value biases `[q]`, `[kv]`, `[kv]` (Qwen2).
    public let bq: [Float]?, bk: [Float]?, bv: [Float]?
    /// Per-head RMSNorm gains of queries and keys, `[hd]` each (Qwen3, Gemma 3).
    public let qNorm: [Float]?, kNorm: [Float]?
    /// Attention output projection `[d, q]`.
    public let wo: WeightMatrix
    /// RMSNorm gain of the attention output before the residual add, `[d]` (Gemma 3).
    public let postAttentionNorm: [Float]?
    /// RMSNorm gain before the feed-forward block, `[d]`.
    public let ffnNorm: [Float]
    /// FFN gate `[f, d]`.
    public let wGate: WeightMatrix
    /// FFN up `[f, d]`.
    public let wUp: WeightMatrix
    /// FFN down `[d, f]`.
    public let wDown: WeightMatrix
    /// RMSNorm gain of the FFN output before the residual add, `[d]` (Gemma 3).
    public let postFFNNorm: [Float]?

    /// The weight of `projection`.
    func matrix(_ projection: LoRAProjection) -> WeightMatrix {
        switch projection {
        case .q: wq
        case .k: wk
        case .v: wv
        case .o: wo
        case .gate: wGate
        case .up: wUp
        case .down: wDown
        }
    }

    /// This block with some projections' weights replaced (a merged adapter).
    func replacing(_ replace: (LoRAProjection, WeightMatrix) -> WeightMatrix) -> LayerWeights {
        LayerWeights(attentionNorm: attentionNorm, wq: replace(.q, wq), wk: replace(.k, wk), wv: replace(.v, wv),
                     bq: bq, bk: bk, bv: bv, qNorm: qNorm, kNorm: kNorm, wo: replace(.o, wo),
                     postAttentionNorm: postAttentionNorm, ffnNorm: ffnNorm, wGate: replace(.gate, wGate),
                     wUp: replace(.up, wUp), wDown: replace(.down, wDown), postFFNNorm: postFFNNorm)
    }
}

/// A model loaded from GGUF: any family of `ArchitectureTraits.table`. Immutable and shareable; the
/// per-sequence state lives in a `KVCache` and the per-call buffers in a `Transformer`.
public final class ModelWeights: Sendable {
    /// The open GGUF file; the weight matrices point into its memory map.
    public let file: GGUFFile
    /// Shape of the network.
    public let config: ModelConfig
    /// Token embedding table `[V, d]`.
    public let embedding: WeightMatrix
    /// Output head `[V, d]`: `output.weight`, or the embedding table when tied.
    public let output: WeightMatrix
    /// Final RMSNorm gain `[d]`.
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
        let t = c.traits
        var layers: [LayerWeights] = []
        for i in 0..<c.layers {
            let p = "blk.\(i)."
            func matrix(_ name: String, _ rows: Int, _ cols: Int) throws(InferenceError) -> WeightMatrix {
                try WeightMatrix(file, p + name + ".weight", rows: rows, cols: cols)
            }
            func vector(_ name: String, _ count: Int, when present: Bool = true) throws(InferenceError) -> [Float]? {
                present ? try Self.vector(file, p + name, count: count) : nil
            }
            layers.append(LayerWeights(
                attentionNorm: try Self.vector(file, p + "attn_norm.weight", count: c.dim),
                wq: try matrix("attn_q", c.qDim, c.dim),
                wk: try matrix("attn_k", c.kvDim, c.dim),
                wv: try matrix("attn_v", c.kvDim, c.dim),
                bq: try vector("attn_q.bias", c.qDim, when: t.qkvBias),
                bk: try vector("attn_k.bias", c.kvDim, when: t.qkvBias),
                bv: try vector("attn_v.bias", c.kvDim, when: t.qkvBias),
                qNorm: try vector("attn_q_norm.weight", c.headDim, when: t.qkNorm),
                kNorm: try vector("attn_k_norm.weight", c.headDim, when: t.qkNorm),
                wo: try matrix("attn_output", c.dim, c.qDim),
                postAttentionNorm: try vector("post_attention_norm.weight", c.dim, when: t.postNorms),
                ffnNorm: try Self.vector(file, p + "ffn_norm.weight", count: c.dim),
                wGate: try matrix("ffn_gate", c.ffnDim, c.dim),
                wUp: try matrix("ffn_up", c.ffnDim, c.dim),
                wDown: try matrix("ffn_down", c.dim, c.ffnDim),
                postFFNNorm: try vector("post_ffw_norm.weight", c.dim, when: t.postNorms)))
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
