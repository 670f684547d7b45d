// `--adapter` and `--merge`: a LoRA adapter on top of the model, for `generate` and `bench engine`.

import ArgumentParser
import Inference

/// The adapter options shared by the commands that run the model.
struct AdapterOptions: ParsableArguments {
    @Option(help: "A LoRA adapter: a PEFT directory (adapter_config.json + adapter_model.safetensors) or a GGUF adapter file.")
    var adapter: String?

    @Flag(help: "Fold the adapter into float32 copies of the weights it updates, instead of applying it unmerged at run time.")
    var merge = false

    func validate() throws {
        if merge && adapter == nil { throw ValidationError("--merge needs --adapter") }
    }
}

extension AdapterOptions {
    /// The adapter of `--adapter`, loaded for `model`; nil without the option.
    func load(for model: ModelWeights) throws -> LoRAAdapter? {
        guard let path = adapter else { return nil }
        do { return try LoRAAdapter.load(path: path, config: model.config) } catch { throw CLIError("\(error)") }
    }
}

extension Engine {
    /// This engine with the adapter of `options` applied (see `applying(_:merge:)`).
    func applying(_ options: AdapterOptions) throws -> Engine {
        try applying(options.load(for: model), merge: options.merge)
    }

    /// This engine with `adapter` applied: set on the transformer (unmerged), or with `merge`, folded
    /// into a copy of the model that gets a transformer of its own. Unchanged when `adapter` is nil.
    func applying(_ adapter: LoRAAdapter?, merge: Bool) throws -> Engine {
        guard let adapter else { return self }
        guard merge else {
            transformer.adapter = adapter
            return self
        }
        let merged: ModelWeights
        do { merged = try model.merging(adapter) } catch { throw CLIError("merging \(adapter.source): \(error)") }
        return Engine(model: merged, tokenizer: tokenizer, transformer: Transformer(model: merged), chatTemplate: chatTemplate)
    }
}

extension LoRAAdapter {
    /// One line for humans: source, ranks, projections, size.
    var summary: String {
        let ranks = Set(layers.flatMap { layer in LoRAProjection.allCases.compactMap { layer[$0]?.rank } }).sorted()
        let blocks = layers.filter { !$0.isEmpty }.count
        return "\(source): rank \(ranks.map(String.init).joined(separator: "/")), "
            + "\(projections.map(\.peftName).joined(separator: " ")) in \(blocks) blocks, "
            + String(format: "%.1f MB", Double(byteCount) / 1_048_576)
    }
}
