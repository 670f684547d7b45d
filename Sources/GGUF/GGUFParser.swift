// Parses the GGUF header, metadata and tensor table (versions 2 and 3, little-endian).
//
// Layout (all integers little-endian):
//   magic "GGUF" (u32 0x46554747), version u32, tensor count u64, metadata count u64,
//   metadata entries: key (u64 length + UTF-8), value type u32, value,
//   tensor infos: name (string), dimension count u32, dims u64 × n (innermost first), type u32,
//                 data offset u64 (relative to the data section, a multiple of the alignment),
//   padding to the alignment, then the data section.
// Values: fixed-size scalars, bool (one byte, 0 or 1), string, or array: element type u32,
// count u64, elements (arrays of arrays carry a full type + count header per inner array).

/// Everything a GGUF file's header describes.
struct ParsedGGUF {
    var version: UInt32
    var alignment: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var tensorIndex: [String: Int]
    var dataOffset: Int
}

/// The GGUF header parser.
enum GGUFParser {
    /// `GGUF` read as a little-endian UInt32.
    static let magic: UInt32 = 0x4655_4747
    /// Deepest nesting of arrays inside arrays accepted (guards the recursion against hostile files).
    static let maxArrayDepth = 32
    /// Alignment of the data section when `general.alignment` is absent.
    static let defaultAlignment = 32
    /// Fewest bytes a metadata entry can take: empty key, type, one-byte value.
    static let minimumEntrySize = 8 + 4 + 1
    /// Fewest bytes a tensor info can take: empty name, one dimension, type, offset.
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8
    /// Most entries reserved up front from a count the file claims; tables grow past it as they
    /// are actually read, so a lying count cannot make the parser reserve much memory.
    static let maxReservation = 4096

    /// Parses the `size` bytes at `base` and validates the tensor table against them.
    static func parse(_ base: UnsafeRawPointer, size: Int) throws(GGUFError) -> ParsedGGUF {
        var reader = ByteReader(base: base, size: size)
        let found = try reader.integer(UInt32.self, "magic")
        guard found == magic else { throw .badMagic(found: found) }
        let version = try reader.integer(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try reader.integer(UInt64.self, "tensor count")
        guard tensorCount <= ByteReader.maxCount else { throw .implausibleCount(what: "tensor count", count: tensorCount) }
        let entryCount = try reader.integer(UInt64.self, "metadata count")
        guard entryCount <= ByteReader.maxCount else { throw .implausibleCount(what: "metadata count", count: entryCount) }

        let (metadata, keys) = try readMetadata(&reader, count: Int(entryCount))
        let alignment = try alignment(in: metadata)
        let tensors = try readTensorInfos(&reader, count: Int(tensorCount))

        let (padded, overflow) = reader.offset.addingReportingOverflow(alignment - 1)
        let dataOffset = overflow ? Int.max : padded & ~(alignment - 1)
        var located: [GGUFTensorInfo] = []
        located.reserveCapacity(tensors.infos.count)
        for info in tensors.infos {
            located.append(try locate(info, dataOffset: dataOffset, alignment: alignment, fileSize: size))
        }
        return ParsedGGUF(version: version, alignment: alignment, metadata: metadata, metadataKeys: keys,
                          tensors: located, tensorIndex: tensors.index, dataOffset: dataOffset)
    }

    // MARK: Metadata

    /// Reads `count` key/value entries, rejecting duplicate keys.
    private static func readMetadata(
        _ reader: inout ByteReader, count: Int
    ) throws(GGUFError) -> ([String: GGUFValue], [String]) {
        let expected = min(count, reader.remaining / minimumEntrySize, maxReservation)
        var metadata = [String: GGUFValue](minimumCapacity: expected)
        var keys: [String] = []
        keys.reserveCapacity(expected)
        for entry in 0..<count {
            let key = try reader.string("key of metadata entry \(entry)")
            let rawType = try reader.integer(UInt32.self, "value type of metadata '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(raw: rawType, key: key) }
            let value = try readValue(&reader, type: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
            keys.append(key)
        }
        return (metadata, keys)
    }

    /// Reads one value of `type`; `key` names the entry in error messages.
    private static func readValue(
        _ reader: inout ByteReader, type: GGUFValueType, key: String, depth: Int
    ) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.integer(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try reader.integer(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try reader.integer(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try reader.integer(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try reader.integer(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try reader.integer(Int32.self, "value of '\(key)'"))
        case .uint64: return .uint64(try reader.integer(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try reader.integer(Int64.self, "value of '\(key)'"))
        case .float32:
            return .float32(Float(bitPattern: try reader.integer(UInt32.self, "value of '\(key)'")))
        case .float64:
            return .float64(Double(bitPattern: try reader.integer(UInt64.self, "value of '\(key)'")))
        case .bool:
            let at = reader.offset
            let byte = try reader.integer(UInt8.self, "value of '\(key)'")
            guard byte <= 1 else { throw .invalidBool(offset: at, value: byte) }
            return .bool(byte == 1)
        case .string:
            return .string(try reader.string("string value of '\(key)'"))
        case .array:
            return .array(try readArray(&reader, key: key, depth: depth + 1))
        }
    }

    /// Reads an array's element type, count and elements. The count is checked against the bytes
    /// left before anything is allocated.
    private static func readArray(
        _ reader: inout ByteReader, key: String, depth: Int
    ) throws(GGUFError) -> [GGUFValue] {
        guard depth <= maxArrayDepth else { throw .nestingTooDeep(key: key) }
        let rawType = try reader.integer(UInt32.self, "element type of array '\(key)'")
        guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(raw: rawType, key: key) }
        let count = try reader.count(itemSize: type.minimumSize, "array '\(key)' of \(type.name)")
        var elements: [GGUFValue] = []
        elements.reserveCapacity(count)
        if type == .string {
            // The vocabulary tables: keep this loop tight.
            for index in 0..<count {
                elements.append(.string(try reader.string("element \(index) of array '\(key)'")))
            }
        } else {
            for _ in 0..<count {
                elements.append(try readValue(&reader, type: type, key: key, depth: depth))
            }
        }
        return elements
    }

    /// `general.alignment`, or the default; must be a power of two greater than zero.
    private static func alignment(in metadata: [String: GGUFValue]) throws(GGUFError) -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let alignment = value.intValue else {
            throw .wrongValueType(key: "general.alignment", expected: "an unsigned integer")
        }
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .badAlignment(alignment) }
        return alignment
    }

    // MARK: Tensor infos

    /// A tensor info as read, before its offset is placed in the file.
    private struct RawTensorInfo {
        var name: String
        var dims: [Int]
        var type: GGMLType
        var elementCount: Int
        var byteCount: Int
        var relativeOffset: UInt64
    }

    /// Reads `count` tensor infos, validating shape, type and name uniqueness as it goes.
    private static func readTensorInfos(
        _ reader: inout ByteReader, count: Int
    ) throws(GGUFError) -> (infos: [RawTensorInfo], index: [String: Int]) {
        let expected = min(count, reader.remaining / minimumTensorInfoSize, maxReservation)
        var infos: [RawTensorInfo] = []
        infos.reserveCapacity(expected)
        var index = [String: Int](minimumCapacity: expected)
        for number in 0..<count {
            let name = try reader.string("name of tensor info \(number)")
            let dimCount = try reader.integer(UInt32.self, "dimension count of tensor '\(name)'")
            guard (1...4).contains(dimCount) else { throw .badDimensionCount(tensor: name, count: dimCount) }
            var dims: [Int] = []
            dims.reserveCapacity(Int(dimCount))
            for _ in 0..<dimCount {
                let raw = try reader.integer(UInt64.self, "dimensions of tensor '\(name)'")
                dims.append(Int(truncatingIfNeeded: raw))  // > Int.max turns negative and is rejected below
            }
            let rawType = try reader.integer(UInt32.self, "type of tensor '\(name)'")
            let offset = try reader.integer(UInt64.self, "data offset of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(tensor: name, raw: rawType) }
            let (elements, bytes) = try size(of: name, dims: dims, type: type)
            guard index.updateValue(infos.count, forKey: name) == nil else { throw .duplicateTensor(name) }
            infos.append(RawTensorInfo(name: name, dims: dims, type: type, elementCount: elements,
                                       byteCount: bytes, relativeOffset: offset))
        }
        return (infos, index)
    }

    /// Element and byte counts of a tensor, after checking its dims.
    private static func size(of name: String, dims: [Int], type: GGMLType) throws(GGUFError) -> (Int, Int) {
        var elements = 1
        for dim in dims {
            guard dim > 0 else { throw .badTensorShape(tensor: name, dims: dims) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .badTensorShape(tensor: name, dims: dims) }
            elements = product
        }
        guard dims[0] % type.blockSize == 0 else {
            throw .rowNotBlockAligned(tensor: name, type: type, innermost: dims[0])
        }
        guard let bytes = type.byteCount(elements: elements) else { throw .badTensorShape(tensor: name, dims: dims) }
        return (elements, bytes)
    }

    /// Places a tensor in the file: checks its offset's alignment and that its data fits.
    private static func locate(
        _ info: RawTensorInfo, dataOffset: Int, alignment: Int, fileSize: Int
    ) throws(GGUFError) -> GGUFTensorInfo {
        guard info.relativeOffset % UInt64(alignment) == 0 else {
            throw .misalignedTensor(tensor: info.name, offset: Int(clamping: info.relativeOffset))
        }
        let relative = Int(clamping: info.relativeOffset)
        let (start, startOverflow) = dataOffset.addingReportingOverflow(relative)
        let (end, endOverflow) = start.addingReportingOverflow(info.byteCount)
        guard !startOverflow, !endOverflow, end <= fileSize else {
            throw .tensorOutOfBounds(tensor: info.name, end: startOverflow || endOverflow ? Int.max : end,
                                     fileSize: fileSize)
        }
        return GGUFTensorInfo(name: info.name, dims: info.dims, type: info.type, offset: start,
                              elementCount: info.elementCount, byteCount: info.byteCount)
    }
}
