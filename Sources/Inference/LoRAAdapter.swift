// LoRA adapters: low-rank updates W' = W + s·B·A to the seven linear projections of each block,
// kept apart from the base weights and applied at run time (y = W·x + s·B·(A·x)), or folded in by
// `ModelWeights.merging(_:)`.
//
// Layouts match the GGUF model the adapter is applied to: A is [rank, in] and B is [out, rank],
// row-major, and the rows of B for q and k are already in the GGUF order (RoPE-permuted for llama).
// The loaders (PEFT directories, GGUF adapter files) live in LoRAAdapter+PEFT.swift and
// LoRAAdapter+GGUF.swift.

import Foundation

/// The seven linear projections of a Llama block that an adapter can update.
public enum LoRAProjection: Int, CaseIterable, Sendable, CustomStringConvertible {
    case q, k, v, o, gate, up, down

    /// The GGUF tensor stem: `attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_gate`, `ffn_up`, `ffn_down`.
    public var ggufName: String {
        switch self {
        case .q: "attn_q"
        case .k: "attn_k"
        case .v: "attn_v"
        case .o: "attn_output"
        case .gate: "ffn_gate"
        case .up: "ffn_up"
        case .down: "ffn_down"
        }
    }

    /// The Hugging Face module name: `q_proj` ... `down_proj`.
    public var peftName: String {
        switch self {
        case .q: "q_proj"
        case .k: "k_proj"
        case .v: "v_proj"
        case .o: "o_proj"
        case .gate: "gate_proj"
        case .up: "up_proj"
        case .down: "down_proj"
        }
    }

    /// The Hugging Face parent module: `self_attn` or `mlp`.
    public var peftParent: String {
        switch self {
        case .q, .k, .v, .o: "self_attn"
        case .gate, .up, .down: "mlp"
        }
    }

    /// `(out, in)` of this projection's weight in a model shaped by `config`.
    public func shape(_ config: ModelConfig) -> (outputs: Int, inputs: Int) {
        switch self {
        case .q: (config.qDim, config.dim)
        case .o: (config.dim, config.qDim)
        case .k, .v: (config.kvDim, config.dim)
        case .gate, .up: (config.ffnDim, config.dim)
        case .down: (config.dim, config.ffnDim)
        }
    }

    public var description: String { ggufName }
}

/// The low-rank update of one projection: A `[rank, inputs]`, B `[outputs, rank]` (row-major float32)
/// and the scale s, so that the projection computes W·x + s·B·(A·x).
///
/// Immutable; the matrices live in memory this object owns, so the kernels can read them through
/// stable pointers. B is held transposed, `[rank, outputs]`, so that a lane's slice of output rows
/// is a contiguous run in each of its `rank` rows. `@unchecked Sendable` is sound because nothing
/// writes that memory after `init`.
public final class LoRAWeights: @unchecked Sendable {
    /// Rank r: rows of A, columns of B.
    public let rank: Int
    /// Input features (columns of A; columns of the base weight).
    public let inputs: Int
    /// Output features (rows of B; rows of the base weight).
    public let outputs: Int
    /// s: alpha / rank (PEFT), alpha / √rank (rsLoRA), or as the GGUF adapter implies.
    public let scale: Float
    /// A, `[rank, inputs]`.
    let aPointer: UnsafeMutablePointer<Float>
    /// Bᵀ, `[rank, outputs]`.
    let bTransposed: UnsafeMutablePointer<Float>

    /// A low-rank update from row-major A `[rank, inputs]` and B `[outputs, rank]`. Throws
    /// `.shape` (naming `name`) when the counts do not match, `.nonFinite` for NaN or infinity.
    public init(name: String = "lora", rank: Int, inputs: Int, outputs: Int, a: [Float], b: [Float], scale: Float,
                source: String = "memory") throws(AdapterError) {
        guard rank > 0, inputs > 0, outputs > 0, a.count == rank * inputs else {
            throw .shape(path: source, tensor: name + ".lora_A", expected: [rank, inputs], found: [a.count])
        }
        guard b.count == outputs * rank else {
            throw .shape(path: source, tensor: name + ".lora_B", expected: [outputs, rank], found: [b.count])
        }
        guard a.allSatisfy(\.isFinite) else { throw .nonFinite(path: source, tensor: name + ".lora_A") }
        guard b.allSatisfy(\.isFinite) else { throw .nonFinite(path: source, tensor: name + ".lora_B") }
        guard scale.isFinite else { throw .nonFinite(path: source, tensor: name + " (scale)") }
        self.rank = rank
        self.inputs = inputs
        self.outputs = outputs
        self.scale = scale
        aPointer = .allocate(capacity: a.count)
        aPointer.initialize(from: a, count: a.count)
        bTransposed = .allocate(capacity: b.count)
        for o in 0..<outputs {
            for k in 0..<rank { bTransposed[k * outputs + o] = b[o * rank + k] }
        }
    }

    deinit {
        aPointer.deallocate()
        bTransposed.deallocate()
    }

    /// A as a new row-major array `[rank, inputs]`.
    public var a: [Float] { Array(UnsafeBufferPointer(start: aPointer, count: rank * inputs)) }

    /// B as a new row-major array `[outputs, rank]`.
    public var b: [Float] {
        (0..<(outputs * rank)).map { i in bTransposed[(i % rank) * outputs + i / rank] }
    }

    /// Bytes held by A and B.
    public var byteCount: Int { (rank * inputs + outputs * rank) * MemoryLayout<Float>.stride }
}

/// The updates of one transformer block; any projection may have none.
public struct LoRALayer: Sendable {
    /// Indexed by `LoRAProjection.rawValue`.
    private var slots: [LoRAWeights?]

    /// A block with the given updates (projections not in `weights` are left unchanged).
    public init(_ weights: [LoRAProjection: LoRAWeights] = [:]) {
        slots = LoRAProjection.allCases.map { weights[$0] }
    }

    /// The update of `projection`, if any.
    @inline(__always)
    public subscript(projection: LoRAProjection) -> LoRAWeights? {
        get { slots[projection.rawValue] }
        set { slots[projection.rawValue] = newValue }
    }

    /// True when no projection of this block is updated.
    public var isEmpty: Bool { slots.allSatisfy { $0 == nil } }
}

/// A LoRA adapter checked against one model's shape: per layer, per projection, optional A, B and
/// scale. Immutable and shareable; set it on a `Transformer` (`transformer.adapter`) or pass it to one call
/// (`evaluate(_:cache:adapter:shouldStop:)`) to apply it unmerged, or fold it into a copy of the model with
/// `ModelWeights.merging(_:)`.
public struct LoRAAdapter: Sendable {
    /// The configuration of the model the adapter was checked against; a `Transformer` only
    /// accepts the adapter for a model with an equal configuration.
    public let config: ModelConfig
    /// One entry per block of the model.
    public let layers: [LoRALayer]
    /// Where the adapter came from (a path, or "memory").
    public let source: String

    /// An adapter from updates already in the model's layout (B rows of q and k in GGUF order).
    /// Throws when `layers` does not have one entry per block, when any update's shape does not
    /// match its projection, or when there is no update at all.
    public init(config: ModelConfig, layers: [LoRALayer], source: String = "memory") throws(AdapterError) {
        guard layers.count == config.layers else {
            throw .shape(path: source, tensor: "layers", expected: [config.layers], found: [layers.count])
        }
        for (l, layer) in layers.enumerated() {
            for projection in LoRAProjection.allCases {
                guard let w = layer[projection] else { continue }
                let (outputs, inputs) = projection.shape(config)
                guard w.inputs == inputs, w.outputs == outputs else {
                    throw .shape(path: source, tensor: "blk.\(l).\(projection.ggufName).weight",
                                 expected: [outputs, inputs], found: [w.outputs, w.inputs])
                }
            }
        }
        guard layers.contains(where: { !$0.isEmpty }) else { throw .empty(path: source) }
        self.config = config
        self.layers = layers
        self.source = source
    }

    /// The largest rank of any update (sizes the engine's scratch).
    public var maxRank: Int {
        layers.flatMap { layer in LoRAProjection.allCases.compactMap { layer[$0]?.rank } }.max() ?? 0
    }

    /// Bytes held by all A and B matrices.
    public var byteCount: Int {
        layers.reduce(0) { sum, layer in sum + LoRAProjection.allCases.reduce(0) { $0 + (layer[$1]?.byteCount ?? 0) } }
    }

    /// The projections updated in at least one block, in `LoRAProjection` order.
    public var projections: [LoRAProjection] {
        LoRAProjection.allCases.filter { p in layers.contains { $0[p] != nil } }
    }

    /// Loads an adapter for a model shaped by `config`: a PEFT directory (`adapter_config.json` and
    /// `adapter_model.safetensors`, or the safetensors file inside one), or a GGUF adapter file as
    /// llama.cpp's `convert_lora_to_gguf.py` writes it.
    public static func load(path: String, config: ModelConfig) throws(AdapterError) -> LoRAAdapter {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .notAnAdapter(path: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue { return try loadPEFT(directory: path, config: config) }
        if path.hasSuffix(".safetensors") {
            return try loadPEFT(directory: (path as NSString).deletingLastPathComponent, config: config,
                                weightsFile: (path as NSString).lastPathComponent)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .notAnAdapter(path: path, reason: "cannot be opened")
        }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        guard magic == Data("GGUF".utf8) else {
            throw .notAnAdapter(path: path, reason: "not a directory, a .safetensors file or a GGUF file")
        }
        return try loadGGUF(path: path, config: config)
    }
}
