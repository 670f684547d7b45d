// Hyper-parameters of a model, read from GGUF metadata, with its family's traits (Architecture.swift).

import GGUF

/// Everything the forward pass needs to know about the model's shape, from `<arch>.*` metadata.
public struct ModelConfig: Sendable, Equatable {
    /// `general.architecture`: a key of `ArchitectureTraits.table`.
    public let architecture: String
    /// How this family's block differs from Llama's.
    public let traits: ArchitectureTraits
    /// Transformer blocks (`<arch>.block_count`).
    public let layers: Int
    /// Residual width (`<arch>.embedding_length`).
    public let dim: Int
    /// Gated FFN hidden width (`<arch>.feed_forward_length`).
    public let ffnDim: Int
    /// Query heads (`<arch>.attention.head_count`).
    public let heads: Int
    /// Key/value heads (`<arch>.attention.head_count_kv`, default: `heads`).
    public let kvHeads: Int
    /// Width of one head: `<arch>.attention.key_length`, default `dim / heads` (Gemma 3: 256 with width 640).
    public let headDim: Int
    /// Dimensions of each head that RoPE rotates (`<arch>.rope.dimension_count`, default: `headDim`).
    public let ropeDims: Int
    /// RoPE base frequency of global layers (`<arch>.rope.freq_base`, default 10000).
    public let ropeBase: Double
    /// RMSNorm epsilon (`<arch>.attention.layer_norm_rms_epsilon`, default per family).
    public let rmsEpsilon: Float
    /// Keys a sliding-window layer's query sees, itself included (`<arch>.attention.sliding_window`);
    /// nil when every layer is global.
    public let slidingWindow: Int?
    /// Context length the model was trained for (`<arch>.context_length`).
    public let contextLength: Int
    /// Vocabulary size (rows of `token_embd.weight`).
    public let vocabularySize: Int

    /// Width of the query projection: `heads * headDim` (equals `dim` for Llama and Qwen2).
    public var qDim: Int { heads * headDim }
    /// Width of the key/value projections: `kvHeads * headDim`.
    public var kvDim: Int { kvHeads * headDim }
    /// Largest input width of any projection (sizes the activation block sums).
    var maxProjectionInputs: Int { max(dim, ffnDim, qDim) }

    /// True when layer `layer` attends to a sliding window rather than every earlier position.
    public func isSlidingWindow(layer: Int) -> Bool {
        guard slidingWindow != nil, let n = traits.slidingWindowPattern else { return false }
        return layer % n < n - 1
    }

    /// The RoPE base frequency of layer `layer`.
    public func ropeBase(layer: Int) -> Double {
        isSlidingWindow(layer: layer) ? (traits.localRopeBase ?? ropeBase) : ropeBase
    }

    /// Reads and checks the configuration from a GGUF file's metadata and tensor table.
    public init(file: GGUFFile) throws(InferenceError) {
        guard let arch = file.string("general.architecture") else { throw .missingMetadata("general.architecture") }
        guard let traits = ArchitectureTraits.table[arch] else { throw .unsupportedArchitecture(arch) }
        architecture = arch
        self.traits = traits

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
        if let keyLength = file.int("\(arch).attention.key_length") {
            guard keyLength > 0 else {
                throw .invalidMetadata(key: "\(arch).attention.key_length", reason: "must be positive, is \(keyLength)")
            }
            headDim = keyLength
        } else {
            guard dim % heads == 0 else {
                throw .invalidMetadata(key: "\(arch).embedding_length", reason: "\(dim) is not a multiple of \(heads) heads")
            }
            headDim = dim / heads
        }
        if let valueLength = file.int("\(arch).attention.value_length"), valueLength != headDim {
            throw .invalidMetadata(key: "\(arch).attention.value_length",
                                   reason: "\(valueLength) differs from the key length \(headDim); not implemented")
        }
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw .invalidMetadata(key: "\(arch).attention.head_count_kv", reason: "\(kvHeads) does not divide \(heads) heads")
        }
        ropeDims = file.int("\(arch).rope.dimension_count") ?? headDim
        guard ropeDims > 0, ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw .invalidMetadata(key: "\(arch).rope.dimension_count", reason: "\(ropeDims) must be even and at most \(headDim)")
        }
        ropeBase = file.float("\(arch).rope.freq_base") ?? 10000
        rmsEpsilon = Float(file.float("\(arch).attention.layer_norm_rms_epsilon") ?? traits.defaultRMSEpsilon)
        if let scaling = file.string("\(arch).rope.scaling.type"), scaling != "none" {
            throw .invalidMetadata(key: "\(arch).rope.scaling.type", reason: "RoPE scaling '\(scaling)' is not implemented")
        }
        if let factor = file.float("\(arch).rope.scaling.factor"), factor != 1 {
            throw .invalidMetadata(key: "\(arch).rope.scaling.factor", reason: "RoPE scaling by \(factor) is not implemented")
        }
        if traits.slidingWindowPattern != nil {
            let window = try required("attention.sliding_window")
            slidingWindow = window
        } else if let window = file.int("\(arch).attention.sliding_window"), window > 0 {
            throw .invalidMetadata(key: "\(arch).attention.sliding_window",
                                   reason: "a sliding window (\(window)) is not implemented for \(arch)")
        } else {
            slidingWindow = nil
        }
        for key in ["attn_logit_softcapping", "final_logit_softcapping"] {
            if let cap = file.float("\(arch).\(key)"), cap != 0 {
                throw .invalidMetadata(key: "\(arch).\(key)", reason: "logit soft-capping (\(cap)) is not implemented")
            }
        }
        guard let embedding = file.tensor(named: "token_embd.weight") else { throw .missingTensor("token_embd.weight") }
        guard embedding.dims.count == 2, embedding.dims[0] == dim else {
            throw .tensorShape(name: "token_embd.weight", expected: [dim, -1], found: embedding.dims)
        }
        vocabularySize = embedding.dims[1]
        for width in [dim, ffnDim, qDim, kvDim] where width % 32 != 0 {
            throw .invalidMetadata(key: "\(arch).embedding_length",
                                   reason: "projection width \(width) is not a multiple of 32 (the quantisation block)")
        }
    }
}
