// Merging a LoRA adapter into a copy of the model: W' = dequantise(W) + s·B·A, stored as float32.
//
// The merged model computes the same function as the base model with the adapter applied unmerged
// (up to float rounding), with no per-token LoRA cost but float32 weights for every updated
// projection: 4 bytes a weight instead of 0.625 for Q4_1, so decode reads more memory. Projections
// the adapter does not update, the embedding and the output head stay as they are in the file.

import COpenBLAS
import GGUF

extension ModelWeights {
    /// A copy of this model with `adapter` folded into the weights it updates (float32). Throws
    /// `.adapterMismatch` when the adapter was loaded for a model of another configuration.
    public func merging(_ adapter: LoRAAdapter) throws(InferenceError) -> ModelWeights {
        guard adapter.config == config else {
            throw .adapterMismatch("'\(adapter.source)' was loaded for a model of another configuration")
        }
        let merged = zip(layers, adapter.layers).map { layer, lora in
            layer.replacing { projection, w in Self.merge(w, lora[projection]) }
        }
        return ModelWeights(file: file, config: config, embedding: embedding, output: output, outputNorm: outputNorm, layers: merged)
    }

    /// `w` itself without an update; else W' [out, in] = dequantise(W) + s · (Bᵀ [r, out])ᵀ · A [r, in], float32.
    private static func merge(_ w: WeightMatrix, _ lora: LoRAWeights?) -> WeightMatrix {
        guard let lora else { return w }
        let buffer = FloatBuffer(count: w.rows * w.cols)   // [out, in]
        w.dequantize(rows: 0..<w.rows, into: buffer.pointer)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                    Int32(w.rows), Int32(w.cols), Int32(lora.rank),
                    lora.scale, lora.bTransposed, Int32(lora.outputs),
                    lora.aPointer, Int32(lora.inputs),
                    1, buffer.pointer, Int32(w.cols))
        return WeightMatrix(float32: buffer, rows: w.rows, cols: w.cols)
    }
}
