// Bounds-checked little-endian reads over the bytes of a GGUF file.
//
// Every read checks the bytes it needs against the end of the region first and throws
// `.truncated`, naming what was being read, if they are not there. Descriptions of what is being
// read are autoclosures, so the hot path (hundreds of thousands of vocabulary strings) never
// builds a message it does not throw.

/// A cursor over `size` readable bytes at `base`.
struct ByteReader {
    /// Start of the region.
    let base: UnsafeRawPointer
    /// Readable bytes from `base`.
    let size: Int
    /// Position of the next read.
    private(set) var offset: Int = 0

    /// Largest count or length accepted from a file (2^48, 256 TiB): anything larger cannot describe
    /// a real file and is reported as `.implausibleCount` rather than as a truncation.
    static let maxCount: UInt64 = 1 << 48

    /// Creates a reader at the start of the region.
    init(base: UnsafeRawPointer, size: Int) {
        self.base = base
        self.size = size
    }

    /// Bytes left after `offset`.
    var remaining: Int { size - offset }

    /// Throws `.truncated` unless `count` bytes are available at `offset`.
    @inline(__always)
    func require(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        guard count <= size - offset else {
            throw .truncated(offset: offset, needed: count, fileSize: size, what: what())
        }
    }

    /// Reads a little-endian integer.
    @inline(__always)
    mutating func integer<T: FixedWidthInteger & BitwiseCopyable>(
        _: T.Type, _ what: @autoclosure () -> String
    ) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size, what())
        let value = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    /// Reads a 64-bit count of items that take at least `itemSize` bytes each, and checks that
    /// the file can hold that many: absurd counts throw `.implausibleCount`, counts that need more
    /// bytes than remain throw `.truncated`. `what` names the items ("array 'tokenizer.ggml.tokens'").
    @inline(__always)
    mutating func count(itemSize: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> Int {
        let raw = try integer(UInt64.self, "length of " + what())
        guard raw <= Self.maxCount else { throw .implausibleCount(what: "length of " + what(), count: raw) }
        let count = Int(raw)
        // count ≤ 2^48 and itemSize ≤ 12, so this cannot overflow.
        try require(count * itemSize, what())
        return count
    }

    /// Reads a string: a 64-bit byte length, then that many bytes of UTF-8.
    @inline(__always)
    mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try count(itemSize: 1, what())
        let start = offset
        let bytes = UnsafeRawBufferPointer(start: base + start, count: length)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
        offset += length
        return text
    }
}
