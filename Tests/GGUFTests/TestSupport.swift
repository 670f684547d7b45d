// Helpers shared by the GGUF tests: a byte-level GGUF builder for malformed files, a seeded
// random generator, temporary files and the package root.

import Foundation
import Testing
@testable import GGUF

/// Writes GGUF structures field by field, so tests can build files no well-behaved writer would.
struct RawGGUF {
    /// The bytes so far.
    var bytes: [UInt8] = []

    /// Appends a little-endian integer.
    mutating func int<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a length-prefixed string.
    mutating func string(_ text: String) {
        int(UInt64(text.utf8.count))
        bytes.append(contentsOf: Array(text.utf8))
    }

    /// Appends the fixed header: magic, version, tensor count, metadata count.
    mutating func header(version: UInt32 = 3, tensors: UInt64, entries: UInt64) {
        bytes.append(contentsOf: Array("GGUF".utf8))
        int(version)
        int(tensors)
        int(entries)
    }

    /// Appends a metadata key and value type; the caller appends the value.
    mutating func entry(_ key: String, type: UInt32) {
        string(key)
        int(type)
    }

    /// Appends a tensor info.
    mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        int(UInt32(dims.count))
        for dim in dims { int(dim) }
        int(type)
        int(offset)
    }

    /// Appends zeros up to a multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

/// SplitMix64: a small seeded generator so the block tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Expects `body` to throw exactly `expected`.
func expectError(
    _ expected: GGUFError, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(GGUFError) -> Void
) {
    do {
        try body()
        Issue.record("expected \(expected), but nothing was thrown", sourceLocation: sourceLocation)
    } catch {
        #expect(error == expected, sourceLocation: sourceLocation)
    }
}

/// Parses `bytes`, expecting `expected`.
func expectParseError(
    _ bytes: [UInt8], _ expected: GGUFError, sourceLocation: SourceLocation = #_sourceLocation
) {
    expectError(expected, sourceLocation: sourceLocation) { () throws(GGUFError) in _ = try GGUFFile(bytes: bytes) }
}

/// The error `body` throws, or nil.
func caughtError(_ body: () throws(GGUFError) -> Void) -> GGUFError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

/// Little-endian bytes of a half-precision float.
func halfBytes(_ value: Float) -> [UInt8] {
    let bits = HalfFloat.halfBits(from: value)
    return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
}

/// Writes `bytes` to a new file in the temporary directory and returns its path; the file is
/// removed when `body` returns.
func withTemporaryFile<T>(_ bytes: [UInt8], _ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("gguf-test-\(UUID().uuidString).gguf")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// The package root: three levels above this file (Tests/GGUFTests/TestSupport.swift).
func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
