// A PEFT `adapter_config.json` for LoRA, read and checked.
//
// PEFT's semantics, reproduced here (peft/utils/other.py, peft/tuners/tuners_utils.py, lora/layer.py):
// - module keys are names inside the base model, e.g. `model.layers.3.self_attn.q_proj`;
// - `target_modules` as a list matches a key equal to an entry or ending in "." + entry; as a string
//   it is a regular expression that must match the whole key; "all-linear" means every linear
//   layer but the output head;
// - `rank_pattern` / `alpha_pattern` keys are regular expressions tried in order: the first key K
//   for which `(.*\.)?(K)` matches the whole module key gives that module's r / alpha;
// - scale = alpha / r, or alpha / √r with `use_rslora`.

import Foundation
import JSON

/// The LoRA settings of a PEFT adapter that inference depends on, with PEFT's defaults
/// (r = 8, lora_alpha = 8) and every setting this engine cannot honour refused by name.
public struct PEFTLoRAConfig: Sendable, Equatable {
    /// Which modules `target_modules` selects.
    public enum Targets: Sendable, Equatable {
        /// `target_modules` is null or absent (the tensors alone say what is adapted).
        case unspecified
        /// A list of names, each matching a module key equal to it or ending in "." + name.
        case names([String])
        /// A regular expression that must match a whole module key.
        case pattern(String)
        /// `"all-linear"`: every projection of every block.
        case allLinear
    }

    /// One `rank_pattern` or `alpha_pattern` entry: a regular expression and its value.
    public struct PatternEntry: Sendable, Equatable {
        /// The key as written: a regular expression matched against a suffix of the module key.
        public let pattern: String
        /// The rank or alpha it sets.
        public let value: Double
    }

    /// Where the configuration came from (for error messages).
    public let path: String
    /// Default rank `r`.
    public let rank: Int
    /// Default `lora_alpha`.
    public let alpha: Double
    /// `use_rslora`: scale by alpha / √r instead of alpha / r.
    public let useRSLoRA: Bool
    /// `target_modules`.
    public let targets: Targets
    /// `rank_pattern`, in file order.
    public let rankPattern: [PatternEntry]
    /// `alpha_pattern`, in file order.
    public let alphaPattern: [PatternEntry]

    /// Reads and checks the configuration file at `path`.
    public init(path: String) throws(AdapterError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .notAnAdapter(path: path, reason: "cannot read the file")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes: [UInt8](data)) } catch {
            throw .config(path: path, field: "(document)", reason: "not valid JSON: \(error)")
        }
        try self.init(json: json, path: path)
    }

    /// Checks a parsed configuration; `path` is only used in error messages.
    public init(json: JSONValue, path: String = "adapter_config.json") throws(AdapterError) {
        guard json.objectMembers != nil else { throw .config(path: path, field: "(document)", reason: "not a JSON object") }
        let fields = Fields(json: json, path: path)
        self.path = path
        if let type = try fields.string("peft_type"), type != "LORA" {
            throw .unsupported(path: path, field: "peft_type", reason: "'\(type)' is not a LoRA adapter")
        }
        rank = try fields.int("r") ?? 8
        guard rank > 0 else { throw .config(path: path, field: "r", reason: "must be a positive integer, is \(rank)") }
        alpha = try fields.number("lora_alpha") ?? 8
        useRSLoRA = try fields.bool("use_rslora") ?? false
        try Self.refuseUnsupported(fields, path: path)
        targets = try Self.targets(json["target_modules"], path: path)
        rankPattern = try Self.patterns(json["rank_pattern"], field: "rank_pattern", path: path, integral: true)
        alphaPattern = try Self.patterns(json["alpha_pattern"], field: "alpha_pattern", path: path, integral: false)
    }

    // MARK: Per-module values

    /// The rank of the module with key `module` (e.g. `model.layers.0.self_attn.q_proj`).
    public func rank(forModule module: String) -> Int {
        Self.firstMatch(rankPattern, module).map { Int($0) } ?? rank
    }

    /// The alpha of the module with key `module`.
    public func alpha(forModule module: String) -> Double {
        Self.firstMatch(alphaPattern, module) ?? alpha
    }

    /// The scale s of the module with key `module`: alpha / r, or alpha / √r with rsLoRA.
    public func scale(forModule module: String) -> Float {
        let r = Double(rank(forModule: module)), a = alpha(forModule: module)
        return Float(useRSLoRA ? a / r.squareRoot() : a / r)
    }

    /// Whether `target_modules` selects the module with key `module`.
    public func targets(module: String) -> Bool {
        switch targets {
        case .unspecified, .allLinear: return true
        case .names(let names): return names.contains { module == $0 || module.hasSuffix("." + $0) }
        case .pattern(let pattern): return Self.wholeMatch(pattern, module)
        }
    }

    /// Throws when `target_modules` selects the embedding or output head, or names something that
    /// is none of the projections of a model with `layers` blocks.
    public func checkTargets(layers: Int) throws(AdapterError) {
        let projections = (0..<layers).flatMap { l in LoRAProjection.allCases.map { Self.moduleKey(layer: l, $0) } }
        let heads = ["model.embed_tokens", "lm_head"]
        switch targets {
        case .unspecified, .allLinear: return
        case .names(let names):
            for name in names {
                let selects = { (key: String) in key == name || key.hasSuffix("." + name) }
                if let head = heads.first(where: selects) { throw .embeddingTarget(path: path, module: head) }
                guard projections.contains(where: selects) else { throw .unknownTargetModule(path: path, module: name) }
            }
        case .pattern(let pattern):
            if let head = heads.first(where: { Self.wholeMatch(pattern, $0) }) { throw .embeddingTarget(path: path, module: head) }
            guard projections.contains(where: { Self.wholeMatch(pattern, $0) }) else {
                throw .unknownTargetModule(path: path, module: pattern)
            }
        }
    }

    /// The PEFT module key of `projection` in block `layer`: `model.layers.<layer>.<parent>.<name>`.
    public static func moduleKey(layer: Int, _ projection: LoRAProjection) -> String {
        "model.layers.\(layer).\(projection.peftParent).\(projection.peftName)"
    }

    // MARK: Parsing

    /// Refuses the settings that change what the adapter computes in ways this engine does not implement.
    private static func refuseUnsupported(_ fields: Fields, path: String) throws(AdapterError) {
        if try fields.bool("use_dora") == true {
            throw .unsupported(path: path, field: "use_dora", reason: "DoRA adapters (weight-decomposed LoRA) are not implemented")
        }
        if try fields.bool("fan_in_fan_out") == true {
            throw .unsupported(path: path, field: "fan_in_fan_out", reason: "transposed (Conv1D) weights do not occur in Llama models")
        }
        if let bias = try fields.string("bias"), bias != "none" {
            throw .unsupported(path: path, field: "bias", reason: "'\(bias)': trained biases are not applied; only \"none\" is supported")
        }
        if try fields.bool("lora_bias") == true {
            throw .unsupported(path: path, field: "lora_bias", reason: "a bias on LoRA's B matrix is not implemented")
        }
        if try fields.bool("use_qalora") == true {
            throw .unsupported(path: path, field: "use_qalora", reason: "QA-LoRA input pooling is not implemented")
        }
        for field in ["modules_to_save", "target_parameters", "layer_replication", "trainable_token_indices", "alora_invocation_tokens"] {
            if fields.isPresent(field) {
                throw .unsupported(path: path, field: field, reason: "must be null or empty for this engine")
            }
        }
    }

    /// `target_modules`: null, a string (regular expression, or "all-linear") or a list of strings.
    private static func targets(_ value: JSONValue?, path: String) throws(AdapterError) -> Targets {
        switch value {
        case nil, .null?: return .unspecified
        case .string(let text)?:
            if text.lowercased() == "all-linear" { return .allLinear }
            guard (try? Regex(text)) != nil else {
                throw .config(path: path, field: "target_modules", reason: "'\(text)' is not a valid regular expression")
            }
            return .pattern(text)
        case .array(let items)?:
            var names: [String] = []
            for item in items {
                guard let name = item.stringValue else { throw .config(path: path, field: "target_modules", reason: "holds a non-string") }
                names.append(name)
            }
            return .names(names)
        default:
            throw .config(path: path, field: "target_modules", reason: "must be null, a string or a list of strings")
        }
    }

    /// `rank_pattern` / `alpha_pattern`: an object of regular expressions to numbers (positive integers for ranks).
    private static func patterns(_ value: JSONValue?, field: String, path: String, integral: Bool) throws(AdapterError) -> [PatternEntry] {
        guard let value, value != .null else { return [] }
        guard let members = value.objectMembers else { throw .config(path: path, field: field, reason: "must be an object") }
        var entries: [PatternEntry] = []
        for (key, item) in members {
            guard (try? Regex(key)) != nil else {
                throw .config(path: path, field: field, reason: "key '\(key)' is not a valid regular expression")
            }
            if integral {
                guard let r = item.intValue, r > 0 else {
                    throw .config(path: path, field: field, reason: "value of '\(key)' must be a positive integer")
                }
                entries.append(PatternEntry(pattern: key, value: Double(r)))
            } else {
                guard let a = item.doubleValue, a.isFinite else {
                    throw .config(path: path, field: field, reason: "value of '\(key)' must be a number")
                }
                entries.append(PatternEntry(pattern: key, value: a))
            }
        }
        return entries
    }

    // MARK: Matching

    /// The value of the first entry whose pattern matches a dot-separated suffix of `module`
    /// (PEFT's `get_pattern_key`: `re.match(rf"(.*\.)?({key})$", module)`).
    private static func firstMatch(_ entries: [PatternEntry], _ module: String) -> Double? {
        entries.first { wholeMatch("(?:.*\\.)?(?:\($0.pattern))", module) }?.value
    }

    /// Whether the regular expression `pattern` matches all of `text` (false for an invalid pattern).
    private static func wholeMatch(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: text)) != nil
    }
}

/// Typed access to the members of the configuration object, with errors naming the field.
private struct Fields {
    let json: JSONValue
    let path: String

    /// Whether `field` is present with a value other than null, false, an empty list or an empty object.
    func isPresent(_ field: String) -> Bool {
        switch json[field] {
        case nil, .null?, .bool(false)?: return false
        case .array(let items)?: return !items.isEmpty
        case .object(let members)?: return !members.isEmpty
        default: return true
        }
    }

    func bool(_ field: String) throws(AdapterError) -> Bool? {
        guard let value = json[field], value != .null else { return nil }
        guard let flag = value.boolValue else { throw .config(path: path, field: field, reason: "must be true or false") }
        return flag
    }

    func string(_ field: String) throws(AdapterError) -> String? {
        guard let value = json[field], value != .null else { return nil }
        guard let text = value.stringValue else { throw .config(path: path, field: field, reason: "must be a string") }
        return text
    }

    func int(_ field: String) throws(AdapterError) -> Int? {
        guard let value = json[field], value != .null else { return nil }
        guard let number = value.intValue else { throw .config(path: path, field: field, reason: "must be an integer") }
        return number
    }

    func number(_ field: String) throws(AdapterError) -> Double? {
        guard let value = json[field], value != .null else { return nil }
        guard let number = value.doubleValue, number.isFinite else { throw .config(path: path, field: field, reason: "must be a number") }
        return number
    }
}
