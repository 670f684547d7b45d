// A weight matrix as the GGUF stores it, read in place from the memory map.

import CPrefetch
import GGUF

/// Errors from loading a model or running it.
public enum InferenceError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read as GGUF.
    case file(GGUFError)
    /// The model's architecture is not one this engine implements.
    case unsupportedArchitecture(String)
    /// A required metadata key is missing or has the wrong type.
    case missingMetadata(String)
    /// A metadata value is outside what the engine supports.
    case invalidMetadata(key: String, reason: String)
    /// A required tensor is absent.
    case missingTensor(String)
    /// A tensor's shape does not match what the metadata implies.
    case tensorShape(name: String, expected: [Int], found: [Int])
    /// A token id is outside the vocabulary.
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    /// The KV cache cannot hold the tokens asked for.
    case contextOverflow(needed: Int, capacity: Int)
    /// An empty batch of tokens was given.
    case emptyInput
    /// A LoRA adapter was loaded for a model of another shape; the text says how they differ.
    case adapterMismatch(String)

    public var description: String {
        switch self {
        case .file(let error): return "model file: \(error)"
        case .unsupportedArchitecture(let arch):
            return "unsupported model architecture '\(arch)' (supported: \(ArchitectureTraits.supportedNames.joined(separator: ", ")))"
        case .missingMetadata(let key): return "model metadata key '\(key)' is missing or has the wrong type"
        case .invalidMetadata(let key, let reason): return "model metadata '\(key)' is not supported: \(reason)"
        case .missingTensor(let name): return "model tensor '\(name)' is missing"
        case .tensorShape(let name, let expected, let found):
            return "model tensor '\(name)' has shape \(found), expected \(expected)"
        case .tokenOutOfRange(let id, let size): return "token id \(id) is outside the vocabulary (size \(size))"
        case .contextOverflow(let needed, let capacity):
            return "context overflow: \(needed) positions needed, KV cache capacity is \(capacity)"
        case .emptyInput: return "no tokens to evaluate"
        case .adapterMismatch(let reason): return "LoRA adapter does not fit the model: \(reason)"
        }
    }
}

/// A row-major weight matrix `[rows, cols]` of one ggml type (GGUF lists its dims as `[cols, rows]`).
/// Row `r` holds the weights that produce output `r`; it is quantised in blocks along the row.
public struct WeightMatrix: @unchecked Sendable {
    /// Storage type of the weights.
    public let type: GGMLType
    /// Output features.
    public let rows: Int
    /// Input features.
    public let cols: Int
    /// Bytes per row.
    public let rowBytes: Int
    /// Start of row 0 inside the model's memory map (lives as long as the `GGUFFile`), or inside `owner`.
    let base: UnsafeRawPointer
    /// The memory of a matrix computed at load time (a merged adapter), kept alive with the matrix; nil for file-backed ones.
    let owner: FloatBuffer?

    /// Looks up `name` and checks that it is a `[rows, cols]` matrix.
    init(_ file: GGUFFile, _ name: String, rows: Int, cols: Int) throws(InferenceError) {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        guard info.dims == [cols, rows] else { throw .tensorShape(name: name, expected: [cols, rows], found: info.dims) }
        // A type without a decoder would otherwise leave `dequantize`'s output unwritten.
        guard Self.canCompute(info.type) else {
            throw .invalidMetadata(key: name, reason: "tensor type \(info.type.name) is not supported by this engine")
        }
        self.type = info.type
        self.rows = rows
        self.cols = cols
        self.rowBytes = info.byteCount / rows
        guard let base = file.data(of: info).baseAddress else { throw .missingTensor(name) }
        self.base = base
        self.owner = nil
    }

    /// A float32 matrix `[rows, cols]` over memory that `buffer` owns (rows × cols floats, row-major).
    init(float32 buffer: FloatBuffer, rows: Int, cols: Int) {
        self.type = .f32
        self.rows = rows
        self.cols = cols
        self.rowBytes = cols * MemoryLayout<Float>.stride
        self.base = UnsafeRawPointer(buffer.pointer)
        self.owner = buffer
    }

    /// Pointer to the start of row `r`.
    @inline(__always)
    func row(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }

    /// Dequantises rows `range` into `dst` (row-major, `cols` floats a row).
    func dequantize(rows range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let blocksPerRow = cols / type.blockSize
        if range.isEmpty { return }
        if FastDequantize.blocks(type, row(range.lowerBound), blocks: blocksPerRow * range.count, into: dst) { return }
        // Reference path for the remaining types; the shape was checked at load, so this cannot fail.
        let bytes = UnsafeRawBufferPointer(start: row(range.lowerBound), count: rowBytes * range.count)
        try? Dequantize.run(type, from: bytes, count: cols * range.count, into: dst)
    }

    /// True when `multiplyBatch` has a kernel that shares each block across tokens for this type.
    var hasBatchKernel: Bool { type == .q4_1 || type == .q5_0 || type == .q8_0 }

    /// True when this engine can multiply by a matrix of `type`: it has a direct kernel or a
    /// dequantiser for it (Q2_K and Q3_K only the latter, so they run slowly). Other types
    /// (i-quants, MXFP4, Q8_K, integer types, ...) parse but cannot be run.
    public static func canCompute(_ type: GGMLType) -> Bool { type.hasReferenceDequantizer }

    /// Y[t, r] = row(r) · X[t] for tokens t < n and rows r in `range`. X is [n, cols] (row stride
    /// `cols`), `sums` is [n, cols/32] block sums, Y has row stride `ldy`. Tokens go four at a time
    /// through the shared-unpack kernel (a short last group is padded); other types go one at a time.
    func multiplyBatch(rows range: Range<Int>, x: UnsafePointer<Float>, sums: UnsafePointer<Float>, n: Int,
                       into y: UnsafeMutablePointer<Float>, ldy: Int, scratch: UnsafeMutablePointer<Float>) {
        let blocks = cols / 32
        var t = 0
        if hasBatchKernel && n >= 2 {
            while t < n {
                // Groups of four; a short last group (2–3 tokens) repeats its last token and drops the extra lanes.
                let count = min(4, n - t)
                let idx = (t, t + min(1, count - 1), t + min(2, count - 1), t + min(3, count - 1))
                let xs = (x + idx.0 * cols, x + idx.1 * cols, x + idx.2 * cols, x + idx.3 * cols)
                let ss = (sums + idx.0 * blocks, sums + idx.1 * blocks, sums + idx.2 * blocks, sums + idx.3 * blocks)
                for r in range {
                    let v: SIMD4<Float>
                    switch type {
                    case .q5_0: v = QuantDot.q5_0x4(row(r), xs, sums: ss, blocks: blocks)
                    case .q8_0: v = QuantDot.q8_0x4(row(r), xs, blocks: blocks)
                    default: v = QuantDot.q4_1x4(row(r), xs, sums: ss, blocks: blocks)
                    }
                    for lane in 0..<count { y[(t + lane) * ldy + r] = v[lane] }
                }
                t += count
            }
            return
        }
        while t < n {
            multiply(rows: range, x: x + t * cols, blockSums: sums + t * blocks, into: y + t * ldy, scratch: scratch)
            t += 1
        }
    }

    /// How far ahead of the row being multiplied the decode kernels prefetch: 4 KiB. The hardware
    /// prefetchers stop at 4 KiB page boundaries, and a matrix-vector product does too little work per byte
    /// to hide the misses; prefetching rows ahead took the Q8_0 kernel from 6.5 to 12.7 GB/s on one core.
    static let prefetchBytes = 4096

    /// Prefetches every cache line of row `r` (nothing past the last row).
    @inline(__always)
    func prefetch(row r: Int) {
        guard r < rows else { return }
        let start = row(r)
        var offset = 0
        while offset < rowBytes {
            toolrouter_prefetch(start + offset)
            offset += 64
        }
    }

    /// y[r] = row(r) · x for r in `range`. `x` is `cols` floats; `blockSums` its 32-wide block sums
    /// (the K-quant kernels read 8 of them per 256-weight super-block). `scratch` holds `cols` floats
    /// for types without a direct kernel.
    @inline(__always)
    func multiply(rows range: Range<Int>, x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>,
                  into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let blocks = cols / 32, superBlocks = cols / 256
        // Rows ahead to prefetch; none for a single row (the restricted output head asks for scattered rows).
        let ahead = range.count > 1 ? max(1, Self.prefetchBytes / rowBytes) : rows
        switch type {
        case .q4_1:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q4_1(row(r), x, blockSums: blockSums, blocks: blocks) }
        case .q8_0:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q8_0(row(r), x, blocks: blocks) }
        case .q4_0:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q4_0(row(r), x, blockSums: blockSums, blocks: blocks) }
        case .q5_0:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q5_0(row(r), x, blockSums: blockSums, blocks: blocks) }
        case .q5_1:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q5_1(row(r), x, blockSums: blockSums, blocks: blocks) }
        case .q4_K:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q4_K(row(r), x, blockSums: blockSums, blocks: superBlocks) }
        case .q5_K:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q5_K(row(r), x, blockSums: blockSums, blocks: superBlocks) }
        case .q6_K:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.q6_K(row(r), x, blocks: superBlocks) }
        case .f32:
            for r in range { prefetch(row: r + ahead); y[r] = QuantDot.f32(row(r).assumingMemoryBound(to: Float.self), x, count: cols) }
        default:
            for r in range {
                dequantize(rows: r..<(r + 1), into: scratch)
                y[r] = QuantDot.f32(scratch, x, count: cols)
            }
        }
    }
}

/// Float32 memory owned by a computed `WeightMatrix`. `@unchecked Sendable`: written only while
/// the matrix is being built, before it is shared, and freed in `deinit`.
final class FloatBuffer: @unchecked Sendable {
    /// Start of the memory.
    let pointer: UnsafeMutablePointer<Float>
    /// Number of floats.
    let count: Int

    /// `count` floats, zeroed.
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    deinit { pointer.deallocate() }
}
