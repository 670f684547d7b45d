// Plain scalar reference dequantisers: ggml blocks → float32.
//
// One straightforward loop per type, written to be read against the layouts in QuantBlocks.swift.
// Fast SIMD paths live with the kernels that need them; these are the reference they are tested
// against, and the fallback for types without a fast path.

/// Reference dequantisation of GGUF tensor data to float32.
public enum Dequantize {
    /// Dequantises `count` consecutive elements of `type` starting at the beginning of `src` into
    /// `dst`, which must have room for `count` floats. Throws `.badElementCount` if `count` is not
    /// a non-negative multiple of `type.blockSize`, `.bufferTooSmall` if `src` is short, and
    /// `.noDequantizer` for a type without a decoder here (`type.hasReferenceDequantizer` is false).
    public static func run(
        _ type: GGMLType, from src: UnsafeRawBufferPointer, count: Int, into dst: UnsafeMutablePointer<Float>
    ) throws(GGUFError) {
        guard type.hasReferenceDequantizer else { throw .noDequantizer(type: type) }
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
        case .q5_0: each(blocks, base, Q5_0Block.size, dst, 32, q5_0)
        case .q5_1: each(blocks, base, Q5_1Block.size, dst, 32, q5_1)
        case .q2_K: each(blocks, base, 84, dst, 256, q2_K)
        case .q3_K: each(blocks, base, 110, dst, 256, q3_K)
        case .q4_K: each(blocks, base, Q4_KBlock.size, dst, 256, q4_K)
        case .q5_K: each(blocks, base, Q5_KBlock.size, dst, 256, q5_K)
        case .q6_K: each(blocks, base, Q6_KBlock.size, dst, 256, q6_K)
        default: throw .noDequantizer(type: type)
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

    /// Little-endian 32-bit load at `offset`.
    @inline(__always)
    private static func u32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
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

    /// Q5_0: w = d·(q − 16); the low four bits as in Q4_0, bit i of the little-endian `qh` is weight i's fifth.
    private static func q5_0(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q5_0Block.d)
        let high = u32(block, Q5_0Block.qh)
        for j in 0..<16 {
            let packed = byte(block, Q5_0Block.qs + j)
            let low = Int(packed & 0x0F) | Int((high >> UInt32(j)) & 1) << 4
            let upper = Int(packed >> 4) | Int((high >> UInt32(j + 16)) & 1) << 4
            out[j] = d * Float(low - 16)
            out[j + 16] = d * Float(upper - 16)
        }
    }

    /// Q5_1: w = d·q + m, quants as in Q5_0.
    private static func q5_1(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q5_1Block.d)
        let m = half(block, Q5_1Block.m)
        let high = u32(block, Q5_1Block.qh)
        for j in 0..<16 {
            let packed = byte(block, Q5_1Block.qs + j)
            let low = UInt32(packed & 0x0F) | ((high >> UInt32(j)) & 1) << 4
            let upper = UInt32(packed >> 4) | ((high >> UInt32(j + 16)) & 1) << 4
            out[j] = d * Float(low) + m
            out[j + 16] = d * Float(upper) + m
        }
    }

    /// Q2_K, 84 bytes: `scales[16]` @0, `qs[64]` @16, `d` f16 @80, `dmin` f16 @82. Sixteen
    /// sub-blocks of 16; byte k of `scales` holds sub-block k's scale (low nibble) and minimum (high).
    /// Weight 128c + 32s + l (c < 2, s < 4, l < 32) is bits 2s…2s+1 of `qs[32c + l]`; w = d·sc·q − dmin·m.
    private static func q2_K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, 80), dmin = half(block, 82)
        for c in 0..<2 {
            for s in 0..<4 {
                for l in 0..<32 {
                    let index = 128 * c + 32 * s + l
                    let packed = byte(block, index / 16)
                    let q = byte(block, 16 + 32 * c + l) >> UInt8(2 * s) & 3
                    out[index] = d * Float(packed & 0x0F) * Float(q) - dmin * Float(packed >> 4)
                }
            }
        }
    }

    /// Q3_K, 110 bytes: `hmask[32]` @0, `qs[64]` @32, `scales[12]` @96, `d` f16 @108. Sixteen
    /// sub-blocks of 16 with 6-bit signed scales (stored + 32): sub-block i's low 4 bits are the low
    /// (i < 8) or high (i ≥ 8) nibble of byte i mod 8, its top 2 bits are bits 2(i/4)… of byte
    /// 8 + i mod 4. Weight n = 128c + 32s + l has low bits 2s…2s+1 of `qs[32c + l]`; bit n/32 of
    /// `hmask[n mod 32]` set means q = those bits, clear means q = those bits − 4. w = d·scale·q.
    private static func q3_K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, 108)
        var scales = SIMD16<Float>()
        for i in 0..<16 {
            let lowByte = byte(block, 96 + i % 8)
            let low = i < 8 ? lowByte & 0x0F : lowByte >> 4
            let high = byte(block, 104 + i % 4) >> UInt8(2 * (i / 4)) & 3
            scales[i] = d * Float(Int(low | high << 4) - 32)
        }
        for c in 0..<2 {
            for s in 0..<4 {
                for l in 0..<32 {
                    let n = 128 * c + 32 * s + l
                    let low = Int(byte(block, 32 + 32 * c + l) >> UInt8(2 * s) & 3)
                    let highBitSet = byte(block, n % 32) >> UInt8(n / 32) & 1 == 1
                    out[n] = scales[n / 16] * Float(highBitSet ? low : low - 4)
                }
            }
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

    /// Q5_K: Q4_K's scales and nibbles; sub-block j's fifth bits are bit j of the 32 `qh` bytes.
    private static func q5_K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(block, Q5_KBlock.d)
        let dmin = half(block, Q5_KBlock.dmin)
        let scales = block + Q5_KBlock.scales
        for chunk in 0..<4 {
            let (scaleLow, minLow) = Q4_KBlock.scaleMin(scales, 2 * chunk)
            let (scaleHigh, minHigh) = Q4_KBlock.scaleMin(scales, 2 * chunk + 1)
            let dLow = d * Float(scaleLow), mLow = dmin * Float(minLow)
            let dHigh = d * Float(scaleHigh), mHigh = dmin * Float(minHigh)
            let quants = Q5_KBlock.qs + 32 * chunk
            let first = out + 64 * chunk
            for l in 0..<32 {
                let packed = byte(block, quants + l), high = byte(block, Q5_KBlock.qh + l)
                let low = packed & 0x0F | (high >> (2 * chunk) & 1) << 4
                let upper = packed >> 4 | (high >> (2 * chunk + 1) & 1) << 4
                first[l] = dLow * Float(low) - mLow
                first[l + 32] = dHigh * Float(upper) - mHigh
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
