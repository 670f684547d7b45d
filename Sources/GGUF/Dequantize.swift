// Plain scalar reference dequantisers: ggml blocks → float32.
//
// One straightforward loop per type, written to be read against the layouts in QuantBlocks.swift.
// Fast SIMD paths live with the kernels that need them; these are the reference they are tested
// against, and the fallback for types without a fast path.

/// Reference dequantisation of GGUF tensor data to float32.
public enum Dequantize {
    /// Dequantises `count` consecutive elements of `type` starting at the beginning of `src` into
    /// `dst`, which must have room for `count` floats. Throws `.badElementCount` if `count` is not
    /// a non-negative multiple of `type.blockSize`, and `.bufferTooSmall` if `src` is short.
    public static func run(
        _ type: GGMLType, from src: UnsafeRawBufferPointer, count: Int, into dst: UnsafeMutablePointer<Float>
    ) throws(GGUFError) {
        guard let needed = type.byteCount(elements: count) else { throw .badElementCount(type: type, count: count) }
        guard src.count >= needed else { throw .bufferTooSmall(type: type, needed: needed, available: src.count) }
        guard count > 0, let base = src.baseAddress else { return }
        let blocks = count / type.blockSize
        switch type {
        case .f32: f32(base, count: count, into: dst)
        case .f16: f16(base, count: count, into: dst)
        case .bf16: bf16(base, count: count, into: dst)
        case .q4_0: each(blocks, base, Q4_0Block.size, dst, 32, q4_0)
        case .q4_1: each(blocks, base, Q4_1Block.size, dst, 32, q4_1)
        case .q8_0: each(blocks, base, Q8_0Block.size, dst, 32, q8_0)
        case .q4_K: each(blocks, base, Q4_KBlock.size, dst, 256, q4_K)
        case .q6_K: each(blocks, base, Q6_KBlock.size, dst, 256, q6_K)
        }
    }

    /// Dequantises `count` elements of `type` from the start of `src` into a new array.
    public static func row(_ type: GGMLType, from src: UnsafeRawBufferPointer, count: Int) throws(GGUFError) -> [Float] {
        guard count > 0 else {
            guard count == 0 else { throw .badElementCount(type: type, count: count) }
            return []
        }
        var out = [Float](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { (buffer: inout UnsafeMutableBufferPointer<Float>) throws(GGUFError) in
            guard let start = buffer.baseAddress else { return }
            try run(type, from: src, count: count, into: start)
        }
        return out
    }

    /// Dequantises `count` elements of `type` from the start of `bytes` into a new array.
    public static func row(_ type: GGMLType, from bytes: [UInt8], count: Int) throws(GGUFError) -> [Float] {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(GGUFError) in try row(type, from: raw, count: count) }
        }
        return try result.get()
    }

    /// Dequantises rows `rows` of `tensor` in `file` (all rows if nil). A row is `dims[0]` weights;
    /// the rows of a tensor are the product of its other dims.
    public static func row(
        _ tensor: GGUFTensorInfo, in file: GGUFFile, rows: Range<Int>? = nil
    ) throws(GGUFError) -> [Float] {
        let width = tensor.dims.first ?? 0
        let rowCount = width > 0 ? tensor.elementCount / width : 0
        let range = rows ?? 0..<rowCount
        guard range.lowerBound >= 0, range.upperBound <= rowCount else {
            throw .rowsOutOfRange(tensor: tensor.name, rows: range, available: rowCount)
        }
        let data = file.data(of: tensor)
        let rowBytes = tensor.type.byteCount(elements: width) ?? 0
        guard data.count == tensor.byteCount, rowBytes * rowCount == data.count else {
            throw .bufferTooSmall(type: tensor.type, needed: tensor.byteCount, available: data.count)
        }
        let slice = UnsafeRawBufferPointer(rebasing: data[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)])
        return try row(tensor.type, from: slice, count: range.count * width)
    }

    // MARK: Per-type loops

    /// Calls `body(block, out)` for `blocks` blocks of `blockBytes` bytes producing `weights` floats each.
    @inline(__always)
    private static func each(
        _ blocks: Int, _ base: UnsafeRawPointer, _ blockBytes: Int, _ dst: UnsafeMutablePointer<Float>,
        _ weights: Int, _ body: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
    ) {
        for index in 0..<blocks {
            body(base + index * blockBytes, dst + index * weights)
        }
    }

    /// Little-endian 16-bit load at `offset`.
    @inline(__always)
    private static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// IEEE half at `offset`, as float32.
    @inline(__always)
    private static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfFloat.float(fromHalf: u16(p, offset))
    }

    /// Byte at `offset`.
    @inline(__always)
    private static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }

    private static func f32(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    }

    private static func f16(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = half(src, 2 * i) }
    }

    private static func bf16(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = HalfFloat.float(fromBF16: u16(src, 2 * i)) }
    }

    /// Q4_0: w = d·(q − 8); byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    private static func q4_0(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q4_0Block.d)
        for j in 0..<16 {
            let packed = byte(block, Q4_0Block.qs + j)
            out[j] = d * Float(Int(packed & 0x0F) - 8)
            out[j + 16] = d * Float(Int(packed >> 4) - 8)
        }
    }

    /// Q4_1: w = d·q + m, nibbles as in Q4_0.
    private static func q4_1(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q4_1Block.d)
        let m = half(block, Q4_1Block.m)
        for j in 0..<16 {
            let packed = byte(block, Q4_1Block.qs + j)
            out[j] = d * Float(packed & 0x0F) + m
            out[j + 16] = d * Float(packed >> 4) + m
        }
    }

    /// Q8_0: w = d·q with signed 8-bit q.
    private static func q8_0(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q8_0Block.d)
        for j in 0..<32 {
            out[j] = d * Float(Int8(bitPattern: byte(block, Q8_0Block.qs + j)))
        }
    }

    /// Q4_K: four 64-weight chunks; chunk c's low nibbles use sub-block 2c, its high nibbles 2c+1.
    private static func q4_K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q4_KBlock.d)
        let dmin = half(block, Q4_KBlock.dmin)
        let scales = block + Q4_KBlock.scales
        for chunk in 0..<4 {
            let (scaleLow, minLow) = Q4_KBlock.scaleMin(scales, 2 * chunk)
            let (scaleHigh, minHigh) = Q4_KBlock.scaleMin(scales, 2 * chunk + 1)
            let dLow = d * Float(scaleLow), mLow = dmin * Float(minLow)
            let dHigh = d * Float(scaleHigh), mHigh = dmin * Float(minHigh)
            let quants = Q4_KBlock.qs + 32 * chunk
            let first = out + 64 * chunk
            for l in 0..<32 {
                let packed = byte(block, quants + l)
                first[l] = dLow * Float(packed & 0x0F) - mLow
                first[l + 32] = dHigh * Float(packed >> 4) - mHigh
            }
        }
    }

    /// Q6_K: two 128-weight halves, each spread over 64 `ql` bytes, 32 `qh` bytes and 8 scales.
    private static func q6_K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q6_KBlock.d)
        for halfIndex in 0..<2 {
            let ql = Q6_KBlock.ql + 64 * halfIndex
            let qh = Q6_KBlock.qh + 32 * halfIndex
            let sc = Q6_KBlock.scales + 8 * halfIndex
            let y = out + 128 * halfIndex
            let scale = { (i: Int) in d * Float(Int8(bitPattern: byte(block, sc + i))) }
            for l in 0..<32 {
                let a = byte(block, ql + l), b = byte(block, ql + l + 32), c = byte(block, qh + l)
                let s = l / 16
                y[l] = scale(s) * Float(Int(a & 0x0F | (c & 3) << 4) - 32)
                y[l + 32] = scale(s + 2) * Float(Int(b & 0x0F | (c >> 2 & 3) << 4) - 32)
                y[l + 64] = scale(s + 4) * Float(Int(a >> 4 | (c >> 4 & 3) << 4) - 32)
                y[l + 96] = scale(s + 6) * Float(Int(b >> 4 | (c >> 6 & 3) << 4) - 32)
            }
        }
    }
}
