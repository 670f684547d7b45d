// Builds safetensors files in memory, for tests and fixtures.

import JSON

/// Assembles a safetensors file: tensors are laid out in the order added, back to back, and the
/// header lists them in that order (with `__metadata__` first when there is any).
public struct SafetensorsWriter: Sendable {
    /// One tensor to write: its header fields and its bytes.
    private struct Tensor: Sendable {
        var name: String
        var dtype: String
        var shape: [Int]
        var data: [UInt8]
    }

    private var tensors: [Tensor] = []
    /// `__metadata__` pairs in insertion order.
    private var metadata: [(key: String, value: String)] = []

    /// Creates an empty writer.
    public init() {}

    /// Adds a float tensor of `shape` (row-major), stored as `dtype` (F32, F16 or BF16; F16 and BF16
    /// round to nearest even). Other dtypes store nothing: use `addRaw` for those.
    public mutating func add(name: String, shape: [Int], values: [Float], dtype: SafetensorsDType = .f32) {
        var data: [UInt8] = []
        data.reserveCapacity(values.count * dtype.byteSize)
        for value in values {
            switch dtype {
            case .f32: Self.append(value.bitPattern, to: &data)
            case .f16: Self.append(HalfFloat.halfBits(from: value), to: &data)
            case .bf16: Self.append(Self.bf16Bits(value), to: &data)
            default: return
            }
        }
        tensors.append(Tensor(name: name, dtype: dtype.rawValue, shape: shape, data: data))
    }

    /// Adds a tensor with any dtype string and bytes, as given (for malformed files in tests).
    public mutating func addRaw(name: String, dtype: String, shape: [Int], data: [UInt8]) {
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, data: data))
    }

    /// Adds a `__metadata__` pair.
    public mutating func addMetadata(_ key: String, _ value: String) {
        metadata.append((key, value))
    }

    /// The header JSON, as the file will hold it.
    public func header() -> String {
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.map { ($0.key, JSONValue.string($0.value)) })))
        }
        var offset = 0
        for tensor in tensors {
            let entry: JSONValue = .object([
                ("dtype", .string(tensor.dtype)),
                ("shape", .array(tensor.shape.map { .number(JSONNumber($0)) })),
                ("data_offsets", .array([.number(JSONNumber(offset)), .number(JSONNumber(offset + tensor.data.count))])),
            ])
            members.append((tensor.name, entry))
            offset += tensor.data.count
        }
        return JSONWriter.compact(.object(members))
    }

    /// The file's bytes. The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
    public func serialize() -> [UInt8] {
        var header = Array(header().utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + tensors.reduce(0) { $0 + $1.data.count })
        Self.append(UInt64(header.count), to: &out)
        out.append(contentsOf: header)
        for tensor in tensors { out.append(contentsOf: tensor.data) }
        return out
    }

    /// Appends `value` little-endian.
    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// The bfloat16 bits nearest to `value` (round to nearest, ties to even; NaN stays NaN).
    private static func bf16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }
}
