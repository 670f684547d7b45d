// Hyper-parameters of a Llama-architecture model, read from GGUF metadata.

import GGUF

/// Everything the forward pass needs to know about the model's shape, from `<arch>.*` metadata.
public struct ModelConfig: Sendable, Equatable {
    /// `general.architecture` (only "llama" is implemented).
    public let architecture: String
    /// Transformer blocks (`llama.block_count`).
    public let layers: Int
    /// Residual width (`llama.embedding_length`).
    public let dim: Int
    /// SwiGLU hidden width (`llama.feed_forward_length`).
    public let ffnDim: Int
    /// Query heads (`llama.attention.head_count`).
    public let heads: Int
    /// Key/value heads (`llama.attention.head_count_kv`, default: `heads`).
    public let kvHeads: Int
    /// Width of one head: `dim / heads`.
    public let headDim: Int
    /// Dimensions of each head that RoPE rotates (`llama.rope.dimension_count`, default: `headDim`).
    public let ropeDims: Int
    /// RoPE base frequency (`llama.rope.freq_base`, default 10000).
    public let ropeBase: Double
    /// RMSNorm epsilon (`llama.attention.layer_norm_rms_epsilon`, default 1e-5).
    public let rmsEpsilon: Float
    /// Context length the model was trained for (`llama.context_length`).
    public let contextLength: Int
    /// Vocabulary size (rows of `token_embd.weight`).
    public let vocabularySize: Int

    /// Width of the key/value projections: `kvHeads * headDim`.
    public var kvDim: Int { kvHeads * headDim }

    /// Reads and checks the configuration from a GGUF file's metadata and tensor table.
    public init(file: GGUFFile) throws(InferenceError) {
        guard let arch = file.string("general.architecture") else { throw .missingMetadata("general.architecture") }
        guard arch == "llama" else { throw .unsupportedArchitecture(arch) }
        architecture = arch

        func required(_ key: String) throws(InferenceError) -> Int {
            guard let value = file.int("\(arch).\(key)") else { throw .missingMetadata("\(arch).\(key)") }
            guard value > 0 else { throw .invalidMetadata(key: "\(arch).\(key)", reason: "must be positive, is \(value)") }
            return value
        }
        layers = try required("block_count")
        dim = try required("embedding_length")
        ffnDim = try required("feed_forward_length")
        heads = try required("attention.head_count")
        kvHeads = file.int("\(arch).attention.head_count_kv") ?? heads
        contextLength = try required("context_length")
        guard dim % heads == 0 else {
            throw .invalidMetadata(key: "\(arch).embedding_length", reason: "\(dim) is not a multiple of \(heads) heads")
        }
        headDim = dim / heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw .invalidMetadata(key: "\(arch).attention.head_count_kv", reason: "\(kvHeads) does not divide \(heads) heads")
        }
        ropeDims = file.int("\(arch).rope.dimension_count") ?? headDim
        guard ropeDims > 0, ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw .invalidMetadata(key: "\(arch).rope.dimension_count", reason: "\(ropeDims) must be even and at most \(headDim)")
        }
        ropeBase = file.float("\(arch).rope.freq_base") ?? 10000
        rmsEpsilon = Float(file.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5)
        if let scaling = file.string("\(arch).rope.scaling.type"), scaling != "none" {
            throw .invalidMetadata(key: "\(arch).rope.scaling.type", reason: "RoPE scaling '\(scaling)' is not implemented")
        }
        guard let embedding = file.tensor(named: "token_embd.weight") else { throw .missingTensor("token_embd.weight") }
        guard embedding.dims.count == 2, embedding.dims[0] == dim else {
            throw .tensorShape(name: "token_embd.weight", expected: [dim, -1], found: embedding.dims)
        }
        vocabularySize = embedding.dims[1]
    }
}
