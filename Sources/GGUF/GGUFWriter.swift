// Builds GGUF files in memory, for tests and fixtures.

/// Assembles a GGUF file (version 3 by default) from metadata and tensors.
///
/// Metadata is written in the order keys were first added; tensors in the order added. The data
/// section starts at the tensor table's end rounded up to the alignment (`general.alignment` if
/// set, else 32), and each tensor's data is padded with zeros to the alignment.
public struct GGUFWriter: Sendable {
    /// One tensor to write.
    private struct Tensor: Sendable {
        var name: String
        var dims: [Int]
        var type: GGMLType
        var data: [UInt8]
    }

    /// Metadata keys in insertion order.
    private var keys: [String] = []
    /// Metadata values by key.
    private var values: [String: GGUFValue] = [:]
    /// Tensors in insertion order.
    private var tensors: [Tensor] = []

    /// Creates an empty writer.
    public init() {}

    /// The alignment the file will use: `general.alignment` if it is an integer from 1 to 1 MiB
    /// (written as given, even if it is not a power of two), else 32.
    public var alignment: Int {
        guard let value = values["general.alignment"]?.intValue, (1...(1 << 20)).contains(value) else {
            return GGUFParser.defaultAlignment
        }
        return value
    }

    /// Sets metadata `key` to `value` (replacing an earlier value but keeping its position).
    ///
    /// GGUF arrays have a single element type. An array mixing element types cannot be written
    /// faithfully: `serialize` labels it with its first element's type, and readers will misread
    /// or reject the file. Call `validate()` when values are not known to be homogeneous.
    public mutating func addMetadata(_ key: String, _ value: GGUFValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Throws `.heterogeneousArray` for the first metadata key whose value has an array (at any
    /// depth) mixing element types.
    public func validate() throws(GGUFError) {
        for key in keys where !(values[key].map(Self.isHomogeneous) ?? true) {
            throw .heterogeneousArray(key: key)
        }
    }

    /// Adds a tensor. `dims` are innermost first; `data` is written as given and should hold
    /// `type.byteCount(elements:)` bytes for the product of `dims` (a reader rejects a file whose
    /// last tensor's data is short, which tests use on purpose).
    public mutating func addTensor(name: String, dims: [Int], type: GGMLType, data: [UInt8]) {
        tensors.append(Tensor(name: name, dims: dims, type: type, data: data))
    }

    /// The file's bytes. `version` is written as given (readers accept 2 and 3; the layout written
    /// is the 64-bit-count layout they share).
    public func serialize(version: UInt32 = 3) -> [UInt8] {
        let alignment = self.alignment
        var out: [UInt8] = []
        out.reserveCapacity(tensors.reduce(4096) { $0 + $1.data.count + alignment })
        Self.append(GGUFParser.magic, to: &out)
        Self.append(version, to: &out)
        Self.append(UInt64(tensors.count), to: &out)
        Self.append(UInt64(keys.count), to: &out)
        for key in keys {
            Self.append(string: key, to: &out)
            guard let value = values[key] else { continue }
            Self.append(value.valueType.rawValue, to: &out)
            Self.append(value: value, to: &out)
        }
        var offset = 0
        for tensor in tensors {
            Self.append(string: tensor.name, to: &out)
            Self.append(UInt32(tensor.dims.count), to: &out)
            for dim in tensor.dims { Self.append(UInt64(truncatingIfNeeded: dim), to: &out) }
            Self.append(tensor.type.rawValue, to: &out)
            Self.append(UInt64(offset), to: &out)
            offset += Self.padded(tensor.data.count, to: alignment)
        }
        Self.pad(&out, to: alignment)
        for tensor in tensors {
            out.append(contentsOf: tensor.data)
            Self.pad(&out, to: alignment)
        }
        return out
    }

    // MARK: Encoding

    /// Whether every array in `value` has elements of one type.
    private static func isHomogeneous(_ value: GGUFValue) -> Bool {
        guard case let .array(elements) = value else { return true }
        guard let first = elements.first?.valueType else { return true }
        return elements.allSatisfy { $0.valueType == first && isHomogeneous($0) }
    }

    /// Appends `value` little-endian.
    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Appends a length-prefixed UTF-8 string.
    private static func append(string: String, to out: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    /// Appends the payload of `value` (its type code is written by the caller).
    private static func append(value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case let .uint8(v): append(v, to: &out)
        case let .int8(v): append(v, to: &out)
        case let .uint16(v): append(v, to: &out)
        case let .int16(v): append(v, to: &out)
        case let .uint32(v): append(v, to: &out)
        case let .int32(v): append(v, to: &out)
        case let .uint64(v): append(v, to: &out)
        case let .int64(v): append(v, to: &out)
        case let .float32(v): append(v.bitPattern, to: &out)
        case let .float64(v): append(v.bitPattern, to: &out)
        case let .bool(v): append(UInt8(v ? 1 : 0), to: &out)
        case let .string(v): append(string: v, to: &out)
        case let .array(elements):
            // An empty array has no element to take a type from; it is written as an array of uint8.
            append((elements.first?.valueType ?? .uint8).rawValue, to: &out)
            append(UInt64(elements.count), to: &out)
            for element in elements { append(value: element, to: &out) }
        }
    }

    /// `count` rounded up to a multiple of `alignment`.
    private static func padded(_ count: Int, to alignment: Int) -> Int {
        (count + alignment - 1) / alignment * alignment
    }

    /// Appends zeros until `out.count` is a multiple of `alignment`.
    private static func pad(_ out: inout [UInt8], to alignment: Int) {
        out.append(contentsOf: repeatElement(0, count: padded(out.count, to: alignment) - out.count))
    }
}
