// Everything that can go wrong while opening, parsing or decoding a GGUF file.
//
// Each case names the problem precisely enough to act on it (which byte, which key, which tensor),
// and `description` turns it into one line of plain English.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error raised while reading a GGUF file or decoding its tensors.
public enum GGUFError: Error, Equatable, CustomStringConvertible {
    /// `open`, `fstat` or `mmap` failed for `path`; `errno` is the C error number.
    case cannotOpen(path: String, errno: Int32)
    /// Reading `what` at byte `offset` needs `needed` bytes, but the file ends at `fileSize`.
    case truncated(offset: Int, needed: Int, fileSize: Int, what: String)
    /// The first four bytes are not `GGUF` (`found` is them read as a little-endian UInt32).
    case badMagic(found: UInt32)
    /// Only versions 2 and 3 are read.
    case unsupportedVersion(UInt32)
    /// A metadata value (or array element) of key `key` has a type code outside 0...12.
    case unknownValueType(raw: UInt32, key: String)
    /// The bytes of the string that starts at byte `offset` (just after its length) are not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// A bool value at byte `offset` is neither 0 nor 1.
    case invalidBool(offset: Int, value: UInt8)
    /// The same metadata key appears twice.
    case duplicateKey(String)
    /// Arrays nested deeper than `GGUFParser.maxArrayDepth` inside the value of `key`.
    case nestingTooDeep(key: String)
    /// A metadata value has a type that makes no sense for its key (e.g. a string alignment).
    case wrongValueType(key: String, expected: String)
    /// `general.alignment` is not a power of two greater than zero.
    case badAlignment(Int)
    /// Tensor `tensor` has a ggml type code this package does not support.
    case unknownTensorType(tensor: String, raw: UInt32)
    /// Tensor `tensor` declares `count` dimensions; 1...4 are allowed.
    case badDimensionCount(tensor: String, count: UInt32)
    /// Tensor `tensor` has a zero or absurd dimension, or its element count overflows.
    case badTensorShape(tensor: String, dims: [Int])
    /// The innermost dimension of tensor `tensor` is not a multiple of its type's block size.
    case rowNotBlockAligned(tensor: String, type: GGMLType, innermost: Int)
    /// The data of tensor `tensor` would end at byte `end`, past the end of the file.
    case tensorOutOfBounds(tensor: String, end: Int, fileSize: Int)
    /// Tensor `tensor`'s data offset (relative to the data section) is not a multiple of the alignment.
    case misalignedTensor(tensor: String, offset: Int)
    /// Two tensors share the name.
    case duplicateTensor(String)
    /// A count or length read from the file (`what`) is larger than any real file could hold.
    case implausibleCount(what: String, count: UInt64)
    /// Dequantising `count` elements of `type`: the count is negative or not a multiple of the block size.
    case badElementCount(type: GGMLType, count: Int)
    /// Dequantising needs `needed` source bytes but only `available` were given.
    case bufferTooSmall(type: GGMLType, needed: Int, available: Int)
    /// Dequantising was asked of a type this package parses but cannot decode (an i-quant, say).
    case noDequantizer(type: GGMLType)
    /// Rows `rows` were asked of tensor `tensor`, which has `available` rows.
    case rowsOutOfRange(tensor: String, rows: Range<Int>, available: Int)
    /// A metadata array given to `GGUFWriter` mixes element types (GGUF arrays are homogeneous);
    /// reported by `GGUFWriter.validate()`.
    case heterogeneousArray(key: String)

    /// A one-line English explanation of the problem.
    public var description: String {
        switch self {
        case let .cannotOpen(path, errno):
            return "cannot open GGUF file '\(path)' (errno \(errno): \(Self.errorString(errno)))"
        case let .truncated(offset, needed, fileSize, what):
            return "GGUF file truncated at byte \(offset) while reading \(what) "
                + "(needs \(needed) bytes from there; file is \(fileSize) bytes)"
        case let .badMagic(found):
            let hex = String(found, radix: 16, uppercase: true)
            return "not a GGUF file: magic is 0x\(hex), expected 0x46554747 ('GGUF')"
        case let .unsupportedVersion(version):
            return "unsupported GGUF version \(version) (only versions 2 and 3 are supported)"
        case let .unknownValueType(raw, key):
            return "unknown GGUF metadata value type \(raw) for key '\(key)'"
        case let .invalidUTF8(offset):
            return "invalid UTF-8 in the GGUF string at byte \(offset)"
        case let .invalidBool(offset, value):
            return "invalid GGUF bool \(value) at byte \(offset) (must be 0 or 1)"
        case let .duplicateKey(key):
            return "GGUF metadata key '\(key)' appears more than once"
        case let .nestingTooDeep(key):
            return "GGUF metadata '\(key)' nests arrays deeper than \(GGUFParser.maxArrayDepth) levels"
        case let .wrongValueType(key, expected):
            return "GGUF metadata '\(key)' has the wrong type (expected \(expected))"
        case let .badAlignment(alignment):
            return "GGUF alignment \(alignment) is not a power of two greater than zero"
        case let .unknownTensorType(tensor, raw):
            return "tensor '\(tensor)' has unsupported ggml type \(raw)"
        case let .badDimensionCount(tensor, count):
            return "tensor '\(tensor)' has \(count) dimensions (1 to 4 are allowed)"
        case let .badTensorShape(tensor, dims):
            return "tensor '\(tensor)' has invalid shape \(dims) (dims must be positive and the element count must fit)"
        case let .rowNotBlockAligned(tensor, type, innermost):
            return "tensor '\(tensor)' of type \(type.name) has innermost dimension \(innermost), "
                + "not a multiple of the block size \(type.blockSize)"
        case let .tensorOutOfBounds(tensor, end, fileSize):
            return "data of tensor '\(tensor)' ends at byte \(end), past the end of the file (\(fileSize) bytes)"
        case let .misalignedTensor(tensor, offset):
            return "tensor '\(tensor)' has data offset \(offset), not a multiple of the file's alignment"
        case let .duplicateTensor(name):
            return "tensor '\(name)' appears more than once"
        case let .implausibleCount(what, count):
            return "implausible \(what) of \(count) in GGUF file"
        case let .badElementCount(type, count):
            return "cannot dequantise \(count) elements of \(type.name): not a non-negative multiple of \(type.blockSize)"
        case let .bufferTooSmall(type, needed, available):
            return "cannot dequantise \(type.name): needs \(needed) bytes of blocks, only \(available) given"
        case let .noDequantizer(type):
            return "tensor type \(type.name) is not supported for computation (it can be listed, not decoded)"
        case let .rowsOutOfRange(tensor, rows, available):
            return "rows \(rows.lowerBound)..<\(rows.upperBound) requested from tensor '\(tensor)', which has \(available) rows"
        case let .heterogeneousArray(key):
            return "GGUF metadata array '\(key)' mixes element types"
        }
    }

    /// The C library's text for `code`, or an empty string.
    private static func errorString(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "" }
        return String(cString: text)
    }
}
