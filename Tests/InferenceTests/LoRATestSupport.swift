// Test-side LoRA material, written independently of the engine's loaders: random adapters in the
// Hugging Face layout, PEFT directories and GGUF adapter files built from them, the q/k row order
// of the GGUF conversion stated from its definition, and a float64 merge of an adapter into the
// dequantised weights.

import Foundation
import GGUF
import Testing
import TestSupport
@testable import Inference

/// The GGUF conversion reorders each head's q/k rows from rotate-half (dims i and i + hd/2 form a
/// pair) to adjacent pairs (dims 2i and 2i + 1). Returns the Hugging Face row that GGUF row `g` holds.
func huggingFaceRow(ofGGUFRow g: Int, headDim hd: Int) -> Int {
    let head = g / hd, within = g % hd
    let pair = within / 2, member = within % 2     // GGUF: pair `pair`, first or second of it
    return head * hd + member * (hd / 2) + pair     // HF: first half holds the firsts, second half the seconds
}

/// Rows of a row-major `[rows, cols]` matrix rearranged so that row `g` of the result is row
/// `source(g)` of `matrix`.
func gatherRows<T>(_ matrix: [T], cols: Int, source: (Int) -> Int) -> [T] {
    let rows = matrix.count / cols
    return (0..<rows).flatMap { g in matrix[(source(g) * cols)..<((source(g) + 1) * cols)] }
}

/// A LoRA adapter as PEFT holds it: per module, A [r, in] and B [out, r] in the Hugging Face layout.
struct HFAdapter {
    struct Module {
        let layer: Int
        let projection: LoRAProjection
        let rank: Int
        let a: [Float]   // [rank, in]
        let b: [Float]   // [out, rank], q/k rows in Hugging Face order
        /// The scale the test expects (alpha / r of this module, as the test's configuration implies).
        let scale: Double

        var key: String { "model.layers.\(layer).\(projection.peftParent).\(projection.peftName)" }
    }

    var modules: [Module]

    /// Random modules for `projections` of every layer of `config`; `rank` and `scale` give each
    /// module's rank and expected scale; entries uniform in ±`magnitude`.
    static func random(config: ModelConfig, projections: [LoRAProjection] = LoRAProjection.allCases, seed: UInt64,
                       magnitude: Float = 0.2, rank: (Int, LoRAProjection) -> Int, scale: (Int, LoRAProjection) -> Double) -> HFAdapter {
        var generator = SeededRandom(state: seed)
        var modules: [Module] = []
        for layer in 0..<config.layers {
            for projection in projections {
                let (outputs, inputs) = projection.shape(config)
                let r = rank(layer, projection)
                let a = (0..<(r * inputs)).map { _ in Float.random(in: -magnitude...magnitude, using: &generator) }
                let b = (0..<(outputs * r)).map { _ in Float.random(in: -magnitude...magnitude, using: &generator) }
                modules.append(Module(layer: layer, projection: projection, rank: r, a: a, b: b, scale: scale(layer, projection)))
            }
        }
        return HFAdapter(modules: modules)
    }

    /// `adapter_model.safetensors` as PEFT writes it (A before B, names under base_model.model.).
    func safetensors(dtype: SafetensorsDType = .f32) -> [UInt8] {
        var writer = SafetensorsWriter()
        writer.addMetadata("format", "pt")
        for module in modules {
            let stem = "base_model.model." + module.key
            writer.add(name: stem + ".lora_A.weight", shape: [module.rank, module.a.count / module.rank], values: module.a, dtype: dtype)
            writer.add(name: stem + ".lora_B.weight", shape: [module.b.count / module.rank, module.rank], values: module.b, dtype: dtype)
        }
        return writer.serialize()
    }

    /// The GGUF adapter llama.cpp's converter would write: q/k rows of B moved to the GGUF order,
    /// lora_a with dims [in, r], lora_b with dims [r, out], F32.
    func gguf(config: ModelConfig, alpha: Float?, architecture: String = "llama",
              extra: (inout GGUFWriter) -> Void = { _ in }) -> [UInt8] {
        var writer = GGUFWriter()
        writer.addMetadata("general.architecture", .string(architecture))
        writer.addMetadata("general.type", .string("adapter"))
        writer.addMetadata("adapter.type", .string("lora"))
        if let alpha { writer.addMetadata("adapter.lora.alpha", .float32(alpha)) }
        for module in modules {
            let (outputs, inputs) = module.projection.shape(config)
            let b = [.q, .k].contains(module.projection)
                ? gatherRows(module.b, cols: module.rank) { huggingFaceRow(ofGGUFRow: $0, headDim: config.headDim) }
                : module.b
            let name = "blk.\(module.layer).\(module.projection.ggufName).weight"
            writer.addTensor(name: name + ".lora_a", dims: [inputs, module.rank], type: .f32, data: floatBytes(module.a))
            writer.addTensor(name: name + ".lora_b", dims: [module.rank, outputs], type: .f32, data: floatBytes(b))
        }
        extra(&writer)
        return writer.serialize()
    }

    /// The model's weights with every module merged, computed in float64: q/k weights are taken
    /// back to the Hugging Face row order, W += s·B·A is added there, and the rows are put back.
    func mergedWeights(file: GGUFFile, config: ModelConfig) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for module in modules {
            let name = "blk.\(module.layer).\(module.projection.ggufName).weight"
            let (outputs, inputs) = module.projection.shape(config)
            let info = try #require(file.tensor(named: name))
            let stored = try Dequantize.row(info, in: file).map(Double.init)      // [out, in], GGUF row order
            let permuted = [.q, .k].contains(module.projection)
            let hd = config.headDim
            // GGUF → HF: HF row huggingFaceRow(g) is GGUF row g, so invert by scattering.
            var hf = stored
            if permuted {
                for g in 0..<outputs {
                    let h = huggingFaceRow(ofGGUFRow: g, headDim: hd)
                    for c in 0..<inputs { hf[h * inputs + c] = stored[g * inputs + c] }
                }
            }
            for o in 0..<outputs {
                for c in 0..<inputs {
                    var sum = 0.0
                    for k in 0..<module.rank { sum += Double(module.b[o * module.rank + k]) * Double(module.a[k * inputs + c]) }
                    hf[o * inputs + c] += module.scale * sum
                }
            }
            out[name] = permuted ? gatherRows(hf, cols: inputs) { huggingFaceRow(ofGGUFRow: $0, headDim: hd) } : hf
        }
        return out
    }
}

/// Little-endian float32 bytes.
func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
}

/// A fresh temporary directory, removed by `cleanup`.
struct TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("toolrouter-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to `name` inside the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }

    /// Writes `text` to `name` inside the directory and returns its path.
    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// The tiny model of TinyModelTests, opened, with its configuration.
func tinyModel() throws -> (file: GGUFFile, model: ModelWeights) {
    let file = try GGUFFile(bytes: Tiny.file())
    return (file, try ModelWeights(file: file))
}

/// Largest absolute difference between two logit vectors.
func worstDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
}

/// Largest absolute difference between engine logits and float64 reference logits.
func worstDifference(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) }.max() ?? .infinity
}
