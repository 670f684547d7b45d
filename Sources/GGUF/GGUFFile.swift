// An opened GGUF file: its metadata, its tensor table, and read-only views of the tensor data.
//
// The file is memory-mapped, so opening a 100 MB model reads only the header pages; tensor data
// is paged in when a kernel first touches it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one tensor lives in a GGUF file, and its shape and type.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// Tensor name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions, innermost (contiguous) first, as stored in the file: a `[cols, rows]` matrix.
    public let dims: [Int]
    /// Storage type.
    public let type: GGMLType
    /// Absolute byte offset of the tensor's data in the file (aligned to the file's alignment).
    public let offset: Int
    /// Number of weights: the product of `dims`.
    public let elementCount: Int
    /// Bytes of data: `elementCount / type.blockSize * type.typeSize`.
    public let byteCount: Int
}

/// A parsed GGUF file (versions 2 and 3), immutable once opened.
///
/// Opened from a path, the file is mapped privately and read-only; as with any memory map, it
/// must not be truncated by another process while it is open (reads past the new end would fault).
///
/// `Sendable`: every stored property is a `let` of a `Sendable` value type, except `storage`,
/// which owns the read-only bytes and is never written after `init` (see `FileStorage`).
public final class GGUFFile: Sendable {
    /// GGUF format version (2 or 3).
    public let version: UInt32
    /// Alignment of tensor data: `general.alignment`, or 32 by default.
    public let alignment: Int
    /// All metadata entries by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Absolute byte offset of the data section (the end of the tensor table, rounded up to `alignment`).
    public let dataOffset: Int
    /// Size of the file in bytes.
    public let fileSize: Int

    /// Tensor positions in `tensors`, by name.
    private let tensorIndex: [String: Int]
    /// The file's bytes; kept alive as long as views handed out by `data(of:)` may be used.
    private let storage: FileStorage

    /// Opens and parses the file at `path`, mapping it read-only into memory.
    public convenience init(path: String) throws(GGUFError) {
        try self.init(storage: FileStorage(mapping: path))
    }

    /// Parses a GGUF file held in memory (the bytes are copied).
    public convenience init(bytes: [UInt8]) throws(GGUFError) {
        try self.init(storage: FileStorage(copying: bytes))
    }

    /// Parses the bytes owned by `storage`.
    private init(storage: FileStorage) throws(GGUFError) {
        guard let base = storage.base, storage.size > 0 else {
            throw .truncated(offset: 0, needed: 4, fileSize: storage.size, what: "magic")
        }
        let parsed = try GGUFParser.parse(base, size: storage.size)
        self.version = parsed.version
        self.alignment = parsed.alignment
        self.metadata = parsed.metadata
        self.metadataKeys = parsed.metadataKeys
        self.tensors = parsed.tensors
        self.tensorIndex = parsed.tensorIndex
        self.dataOffset = parsed.dataOffset
        self.fileSize = storage.size
        self.storage = storage
    }

    /// The tensor called `named`, if the file has one.
    public func tensor(named: String) -> GGUFTensorInfo? {
        guard let index = tensorIndex[named] else { return nil }
        return tensors[index]
    }

    /// The data of `tensor`: a read-only view into this file's memory, valid while the `GGUFFile`
    /// lives. Empty if `tensor` does not lie within this file (e.g. it came from another file).
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        guard let base = storage.base, tensor.offset >= 0, tensor.byteCount >= 0,
              tensor.offset <= fileSize - tensor.byteCount
        else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + tensor.offset, count: tensor.byteCount)
    }

    /// The metadata value for `key`.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// The string value of `key`, if it is a string.
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }

    /// The value of `key` as an `Int`, if it is an integer of any width that fits.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }

    /// The value of `key` as a `Double`, if it is numeric.
    public func float(_ key: String) -> Double? { metadata[key]?.floatValue }

    /// The value of `key` as strings, if it is an array of strings.
    public func stringArray(_ key: String) -> [String]? {
        guard let elements = metadata[key]?.arrayValue else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard case let .string(text) = element else { return nil }
            strings.append(text)
        }
        return strings
    }

    /// The value of `key` as `Int`s, if it is an array of integers that all fit.
    public func intArray(_ key: String) -> [Int]? {
        guard let elements = metadata[key]?.arrayValue else { return nil }
        var ints: [Int] = []
        ints.reserveCapacity(elements.count)
        for element in elements {
            guard let value = element.intValue else { return nil }
            ints.append(value)
        }
        return ints
    }
}

/// Owns the bytes of a GGUF file: a private read-only memory map, or a heap copy.
///
/// `@unchecked Sendable` is safe because the bytes are never written after `init` (the mapping
/// is `PROT_READ`, the copy is filled before `init` returns and never exposed mutably) and they
/// are released only in `deinit`, when no other reference can exist.
private final class FileStorage: @unchecked Sendable {
    /// Start of the bytes, nil when the file is empty.
    let base: UnsafeRawPointer?
    /// Number of bytes.
    let size: Int
    /// Whether `base` came from `mmap` (else from `allocate`).
    private let mapped: Bool

    /// Maps the file at `path` read-only.
    init(mapping path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .cannotOpen(path: path, errno: info.st_mode & S_IFMT == S_IFDIR ? EISDIR : EINVAL)
        }
        let size = Int(info.st_size)
        mapped = size > 0
        self.size = size
        guard size > 0 else {
            base = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .cannotOpen(path: path, errno: errno)
        }
        base = UnsafeRawPointer(address)
    }

    /// Copies `bytes` to the heap.
    init(copying bytes: [UInt8]) {
        mapped = false
        size = bytes.count
        guard !bytes.isEmpty else {
            base = nil
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { source in
            if let start = source.baseAddress { copy.copyMemory(from: start, byteCount: source.count) }
        }
        base = UnsafeRawPointer(copy)
    }

    deinit {
        guard let base else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        } else {
            base.deallocate()
        }
    }
}
