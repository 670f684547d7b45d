// Everything that can go wrong while loading a LoRA adapter.
//
// Every case carries the adapter's path and the field, module or tensor at fault, so that the
// one-line description is enough to fix the file (or to see that the engine does not support it).

import GGUF

/// An error raised while loading a LoRA adapter or checking it against a model.
public enum AdapterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `path` is neither a PEFT adapter directory nor a GGUF adapter file, or cannot be read.
    case notAnAdapter(path: String, reason: String)
    /// The safetensors file of a PEFT adapter is malformed.
    case safetensors(path: String, SafetensorsError)
    /// The GGUF adapter file is malformed.
    case gguf(path: String, GGUFError)
    /// `adapter_config.json` is not JSON, or `field` is missing, of the wrong type or out of range.
    case config(path: String, field: String, reason: String)
    /// The adapter uses a feature this engine does not implement (`field` names it: `use_dora`,
    /// `modules_to_save`, `fan_in_fan_out`, `bias`, ...).
    case unsupported(path: String, field: String, reason: String)
    /// The adapter targets the token embedding or the output head (`module` names it).
    case embeddingTarget(path: String, module: String)
    /// A target module (or pattern) matches none of the model's seven projections.
    case unknownTargetModule(path: String, module: String)
    /// A tensor whose name does not map to a projection of the model.
    case unexpectedTensor(path: String, tensor: String, reason: String)
    /// A tensor for layer `layer`; the model has `layers`.
    case layerOutOfRange(path: String, tensor: String, layer: Int, layers: Int)
    /// One half of an A/B pair is present and the other (`tensor`) is not.
    case missingTensor(path: String, tensor: String)
    /// `tensor` has shape `found`; the model needs `expected` (outermost first: A is [rank, in], B is [out, rank]).
    case shape(path: String, tensor: String, expected: [Int], found: [Int])
    /// The rank of `module` disagrees: `expected` from the configuration, `a` rows of A, `b` columns of B.
    case rankMismatch(path: String, module: String, expected: Int, a: Int, b: Int)
    /// `general.architecture` of the adapter is not the model's.
    case architectureMismatch(path: String, adapter: String, model: String)
    /// A GGUF metadata key is missing or has the wrong value.
    case metadata(path: String, key: String, reason: String)
    /// `tensor` holds NaN or infinity.
    case nonFinite(path: String, tensor: String)
    /// The adapter has no LoRA tensors at all.
    case empty(path: String)

    /// A one-line English explanation of the problem.
    public var description: String {
        switch self {
        case let .notAnAdapter(path, reason):
            return "'\(path)' is not a LoRA adapter: \(reason)"
        case let .safetensors(path, error):
            return "\(path): \(error)"
        case let .gguf(path, error):
            return "\(path): \(error)"
        case let .config(path, field, reason):
            return "\(path): field '\(field)': \(reason)"
        case let .unsupported(path, field, reason):
            return "\(path): '\(field)' is not supported: \(reason)"
        case let .embeddingTarget(path, module):
            return "\(path): the adapter targets '\(module)'; adapters on the token embedding or output head are not supported"
        case let .unknownTargetModule(path, module):
            return "\(path): target module '\(module)' matches none of the model's projections "
                + "(q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"
        case let .unexpectedTensor(path, tensor, reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case let .layerOutOfRange(path, tensor, layer, layers):
            return "\(path): tensor '\(tensor)' is for layer \(layer), but the model has \(layers) layers"
        case let .missingTensor(path, tensor):
            return "\(path): tensor '\(tensor)' is missing (LoRA needs both A and B of every module)"
        case let .shape(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)' has shape \(found), the model needs \(expected)"
        case let .rankMismatch(path, module, expected, a, b):
            return "\(path): rank of '\(module)' disagrees: configured \(expected), A has \(a) rows, B has \(b) columns"
        case let .architectureMismatch(path, adapter, model):
            return "\(path): adapter is for architecture '\(adapter)', the model is '\(model)'"
        case let .metadata(path, key, reason):
            return "\(path): metadata '\(key)': \(reason)"
        case let .nonFinite(path, tensor):
            return "\(path): tensor '\(tensor)' holds NaN or infinity"
        case let .empty(path):
            return "\(path): the adapter has no LoRA tensors"
        }
    }
}
