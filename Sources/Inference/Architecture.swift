// The model families the engine runs, as a table: how each one's block differs from the plain Llama
// block. In the manner of llama.cpp's `llama-arch` tables, a new family is a row here (plus, when it
// brings a genuinely new operation, a few lines in the one block definition, Transformer+Block.swift).
//
// What the rows encode, and where each fact comes from (llama.cpp's src/models/*.cpp and the hparams
// loading in src/llama-model.cpp, checked against each family's Hugging Face implementation):
//   llama   pre-norm, SwiGLU, "normal" RoPE on adjacent pairs — the GGUF converter permuted the q/k
//           rows so that this equals Hugging Face's rotate-half; hence a PEFT adapter's q/k B rows need
//           the same permutation (LoRAAdapter+PEFT.swift).
//   qwen2   llama plus biases on q, k and v; NEOX RoPE (rotate-half on the rows as Hugging Face stores
//           them — the converter does not permute), so adapters are used as trained.
//   qwen3   qwen2 without the biases, with an RMSNorm over each query and key head before RoPE, and a
//           head size (`attention.key_length`) independent of the width.
//   gemma3  embeddings scaled by √width; q/k head norms; an RMSNorm after attention and after the FFN
//           (before each residual add); GELU (tanh form) gate; NEOX RoPE; five of every six layers
//           attend to a sliding window with RoPE base 10,000, every sixth layer (5, 11, 17, …) is global
//           with `rope.freq_base`; output tied to the embedding. The converter already stores Gemma's
//           (1 + w) norm gains as w, so every norm multiplies by its stored weight.

/// How a model family's transformer block differs from the Llama block.
public struct ArchitectureTraits: Sendable, Equatable {
    /// How RoPE pairs the dimensions of a head.
    public enum RoPEStyle: Sendable, Equatable {
        /// Adjacent pairs (2i, 2i+1) — llama.cpp's "normal" mode, for rows the converter permuted.
        case adjacentPairs
        /// Halves (i, i + ropeDims/2) — llama.cpp's NEOX mode, Hugging Face's rotate-half.
        case halves
    }

    /// The gated feed-forward activation: ffn(x) = Wdown·(act(Wgate·x) ⊙ Wup·x).
    public enum Activation: Sendable, Equatable {
        /// SiLU: x·σ(x) (SwiGLU).
        case silu
        /// GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GeGLU).
        case geluTanh
    }

    /// `general.architecture`.
    public let name: String
    /// RoPE pairing.
    public let rope: RoPEStyle
    /// FFN gate activation.
    public let activation: Activation
    /// q, k and v projections carry biases (`attn_q.bias`, …).
    public let qkvBias: Bool
    /// Each query and key head is RMS-normalised (`attn_q_norm`, `attn_k_norm`, `[headDim]`) before RoPE.
    public let qkNorm: Bool
    /// The attention and FFN outputs are RMS-normalised (`post_attention_norm`, `post_ffw_norm`)
    /// before they are added to the residual stream.
    public let postNorms: Bool
    /// Token embeddings are multiplied by √width before the first block.
    public let scalesEmbedding: Bool
    /// When non-nil, layer `l` attends to a sliding window unless `l % n == n - 1` (llama.cpp's
    /// `set_swa_pattern(n)`); nil: every layer is global.
    public let slidingWindowPattern: Int?
    /// RoPE base of sliding-window layers (global layers use `rope.freq_base`).
    public let localRopeBase: Double?
    /// The GGUF converter permuted the q/k rows for adjacent-pair RoPE, so a PEFT adapter's q/k B
    /// rows must be permuted the same way (only where the converter does it: llama).
    public let permutesQKRows: Bool
    /// RMSNorm epsilon when the file does not give one.
    public let defaultRMSEpsilon: Double

    /// The families this engine runs, by `general.architecture`.
    public static let table: [String: ArchitectureTraits] = {
        let llama = ArchitectureTraits(
            name: "llama", rope: .adjacentPairs, activation: .silu, qkvBias: false, qkNorm: false, postNorms: false,
            scalesEmbedding: false, slidingWindowPattern: nil, localRopeBase: nil, permutesQKRows: true,
            defaultRMSEpsilon: 1e-5)
        let qwen2 = ArchitectureTraits(
            name: "qwen2", rope: .halves, activation: .silu, qkvBias: true, qkNorm: false, postNorms: false,
            scalesEmbedding: false, slidingWindowPattern: nil, localRopeBase: nil, permutesQKRows: false,
            defaultRMSEpsilon: 1e-6)
        let qwen3 = ArchitectureTraits(
            name: "qwen3", rope: .halves, activation: .silu, qkvBias: false, qkNorm: true, postNorms: false,
            scalesEmbedding: false, slidingWindowPattern: nil, localRopeBase: nil, permutesQKRows: false,
            defaultRMSEpsilon: 1e-6)
        let gemma3 = ArchitectureTraits(
            name: "gemma3", rope: .halves, activation: .geluTanh, qkvBias: false, qkNorm: true, postNorms: true,
            scalesEmbedding: true, slidingWindowPattern: 6, localRopeBase: 10_000, permutesQKRows: false,
            defaultRMSEpsilon: 1e-6)
        return Dictionary(uniqueKeysWithValues: [llama, qwen2, qwen3, gemma3].map { ($0.name, $0) })
    }()

    /// The supported `general.architecture` names, sorted (for error messages).
    public static var supportedNames: [String] { table.keys.sorted() }
}
