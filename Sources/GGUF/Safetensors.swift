// A reader for the safetensors format (Hugging Face): the container PEFT saves LoRA adapters in.
//
// Layout: an 8-byte little-endian header length N; N bytes of UTF-8 JSON, an object mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional "__metadata__"
// object of strings; then the data, with every offset relative to the end of the header. Tensors
// are row-major (C order), little-endian.
//
// Every check happens when the file is opened, so a file that opens can be read tensor by tensor
// without further failure except for asking a float of a non-float dtype.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// Element types of safetensors tensors, spelled as in the header.
public enum SafetensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .f64, .i64, .u64: 8
        }
    }

    /// True for the types `SafetensorsFile.floats(of:)` converts: F32, F16, BF16, F64.
    public var isReadableAsFloat: Bool { [.f32, .f16, .bf16, .f64].contains(self) }

    public var description: String { rawValue }
}

/// What is wrong with a safetensors file.
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open`, `fstat` or `read` failed for `path`; `errno` is the C error number.
    case cannotOpen(path: String, errno: Int32)
    /// The file has fewer than the 8 bytes of the header length.
    case tooShort(size: Int)
    /// The header length runs past the end of the file, or exceeds `SafetensorsFile.maxHeaderBytes`.
    case headerLength(length: UInt64, fileSize: Int)
    /// The header is not valid JSON (the parser's message).
    case headerNotJSON(String)
    /// The header is JSON but not an object.
    case headerNotObject
    /// The entry of `tensor` lacks a field or has one of the wrong type or value.
    case badEntry(tensor: String, reason: String)
    /// `__metadata__` is not an object of strings.
    case badMetadata(reason: String)
    /// The dtype of `tensor` is not one of the safetensors types.
    case unknownDType(tensor: String, dtype: String)
    /// The data of `tensor` (`begin..<end`, relative to the data section) lies outside the `dataSize` bytes of data.
    case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// The data of `tensor` spans `found` bytes, but its shape and dtype need `expected`.
    case sizeMismatch(tensor: String, expected: Int, found: Int)
    /// The data of `first` and `second` overlap.
    case overlapping(first: String, second: String)
    /// `tensor` has a dtype that cannot be read as float.
    case notFloat(tensor: String, dtype: SafetensorsDType)
    /// No tensor has this name.
    case noSuchTensor(String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, errno):
            return "cannot open safetensors file '\(path)' (errno \(errno): \(Self.errorString(errno)))"
        case let .tooShort(size):
            return "safetensors file is \(size) bytes, shorter than its 8-byte header length"
        case let .headerLength(length, fileSize):
            return "safetensors header length \(length) does not fit in a file of \(fileSize) bytes "
                + "(or exceeds \(SafetensorsFile.maxHeaderBytes) bytes)"
        case let .headerNotJSON(message):
            return "safetensors header is not valid JSON: \(message)"
        case .headerNotObject:
            return "safetensors header is not a JSON object"
        case let .badEntry(tensor, reason):
            return "safetensors entry '\(tensor)': \(reason)"
        case let .badMetadata(reason):
            return "safetensors __metadata__: \(reason)"
        case let .unknownDType(tensor, dtype):
            return "safetensors tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case let .offsetsOutOfRange(tensor, begin, end, dataSize):
            return "safetensors tensor '\(tensor)' has data offsets [\(begin), \(end)] outside the \(dataSize) bytes of data"
        case let .sizeMismatch(tensor, expected, found):
            return "safetensors tensor '\(tensor)' spans \(found) bytes, but its shape and dtype need \(expected)"
        case let .overlapping(first, second):
            return "safetensors tensors '\(first)' and '\(second)' overlap"
        case let .notFloat(tensor, dtype):
            return "safetensors tensor '\(tensor)' has dtype \(dtype), which cannot be read as float"
        case let .noSuchTensor(name):
            return "safetensors file has no tensor '\(name)'"
        }
    }

    /// The C library's text for `code`, or an empty string.
    private static func errorString(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "" }
        return String(cString: text)
    }
}

/// One tensor of a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// Tensor name, e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`.
    public let name: String
    /// Element type.
    public let dtype: SafetensorsDType
    /// Dimensions, outermost first (row-major): a `[rows, cols]` matrix is `[rows, cols]`.
    public let shape: [Int]
    /// Byte range of the data, relative to the start of the data section.
    public let dataRange: Range<Int>

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed safetensors file, held in memory. Immutable once opened.
public struct SafetensorsFile: Sendable {
    /// The largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// Tensors in header order.
    public let tensors: [SafetensorsTensorInfo]
    /// The string pairs of `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Where the data section starts in the file: 8 + header length.
    public let dataOffset: Int
    /// The file's bytes.
    private let bytes: [UInt8]
    /// Positions in `tensors`, by name.
    private let index: [String: Int]

    /// Reads and checks the file at `path`.
    public init(path: String) throws(SafetensorsError) {
        try self.init(bytes: try Self.readFile(path))
    }

    /// Parses and checks a file held in memory.
    public init(bytes: [UInt8]) throws(SafetensorsError) {
        guard bytes.count >= 8 else { throw .tooShort(size: bytes.count) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(min(bytes.count - 8, Self.maxHeaderBytes)) else {
            throw .headerLength(length: length, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(length)
        let header: JSONValue
        do {
            header = try JSONParser.parse(bytes: bytes[8..<headerEnd], limits: JSONLimits(maxDepth: 16, maxBytes: Self.maxHeaderBytes))
        } catch { throw .headerNotJSON(error.description) }
        guard let members = header.objectMembers else { throw .headerNotObject }

        let dataSize = bytes.count - headerEnd
        var tensors: [SafetensorsTensorInfo] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.metadata(value)
            } else {
                tensors.append(try Self.entry(name, value, dataSize: dataSize))
            }
        }
        try Self.checkOverlaps(tensors)
        self.tensors = tensors
        self.metadata = metadata
        self.dataOffset = headerEnd
        self.bytes = bytes
        var index: [String: Int] = [:]
        for (position, tensor) in tensors.enumerated() { index[tensor.name] = position }
        self.index = index
    }

    /// The tensor called `name`, if there is one.
    public func tensor(named name: String) -> SafetensorsTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The raw little-endian bytes of `tensor`.
    public func data(of tensor: SafetensorsTensorInfo) -> ArraySlice<UInt8> {
        bytes[(dataOffset + tensor.dataRange.lowerBound)..<(dataOffset + tensor.dataRange.upperBound)]
    }

    /// The elements of `tensor` as float32, in row-major order (F32, F16, BF16 and F64 tensors).
    public func floats(of tensor: SafetensorsTensorInfo) throws(SafetensorsError) -> [Float] {
        guard tensor.dtype.isReadableAsFloat else { throw .notFloat(tensor: tensor.name, dtype: tensor.dtype) }
        let count = tensor.elementCount
        let start = dataOffset + tensor.dataRange.lowerBound
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { i -> Float in
                switch tensor.dtype {
                case .f32: Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                case .f16: HalfFloat.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self)))
                case .bf16: HalfFloat.float(fromBF16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self)))
                default: Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))))
                }
            }
        }
    }

    /// The elements of the tensor called `name` as float32.
    public func floats(named name: String) throws(SafetensorsError) -> [Float] {
        guard let info = tensor(named: name) else { throw .noSuchTensor(name) }
        return try floats(of: info)
    }

    // MARK: Header checks

    /// One tensor entry: dtype known, shape of non-negative integers, offsets in range and of the right size.
    private static func entry(_ name: String, _ value: JSONValue, dataSize: Int) throws(SafetensorsError) -> SafetensorsTensorInfo {
        guard value.objectMembers != nil else { throw .badEntry(tensor: name, reason: "is not an object") }
        guard let dtypeText = value["dtype"]?.stringValue else {
            throw .badEntry(tensor: name, reason: "\"dtype\" is missing or not a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeText) else { throw .unknownDType(tensor: name, dtype: dtypeText) }
        guard let shapeItems = value["shape"]?.arrayValue else {
            throw .badEntry(tensor: name, reason: "\"shape\" is missing or not an array")
        }
        var shape: [Int] = []
        var elements = 1
        for item in shapeItems {
            guard let dim = item.intValue, dim >= 0 else {
                throw .badEntry(tensor: name, reason: "\"shape\" holds \(JSONWriter.compact(item)), not a non-negative integer")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            let (bytes, bytesOverflow) = product.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, !bytesOverflow, bytes <= Int(Int32.max) * 1024 else {
                throw .badEntry(tensor: name, reason: "shape \(JSONWriter.compact(.array(shapeItems))) has too many elements")
            }
            elements = product
            shape.append(dim)
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= begin
        else { throw .badEntry(tensor: name, reason: "\"data_offsets\" is not [begin, end] with 0 ≤ begin ≤ end") }
        guard end <= dataSize else { throw .offsetsOutOfRange(tensor: name, begin: begin, end: end, dataSize: dataSize) }
        let expected = elements * dtype.byteSize
        guard end - begin == expected else { throw .sizeMismatch(tensor: name, expected: expected, found: end - begin) }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// `__metadata__`: an object whose values are all strings.
    private static func metadata(_ value: JSONValue) throws(SafetensorsError) -> [String: String] {
        guard let members = value.objectMembers else { throw .badMetadata(reason: "is not an object") }
        var out: [String: String] = [:]
        for (key, item) in members {
            guard let text = item.stringValue else { throw .badMetadata(reason: "value of '\(key)' is not a string") }
            out[key] = text
        }
        return out
    }

    /// Throws for the first two non-empty tensors whose byte ranges overlap.
    private static func checkOverlaps(_ tensors: [SafetensorsTensorInfo]) throws(SafetensorsError) {
        let ordered = tensors.filter { !$0.dataRange.isEmpty }.sorted { $0.dataRange.lowerBound < $1.dataRange.lowerBound }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.dataRange.lowerBound < previous.dataRange.upperBound {
            throw .overlapping(first: previous.name, second: next.name)
        }
    }

    // MARK: File input

    /// The whole file at `path`.
    private static func readFile(_ path: String) throws(SafetensorsError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .cannotOpen(path: path, errno: info.st_mode & S_IFMT == S_IFDIR ? EISDIR : EINVAL)
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress.map { $0 + filled }, size - filled)
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw .cannotOpen(path: path, errno: got < 0 ? errno : EIO) }
            filled += got
        }
        return bytes
    }
}
