/// The GPT-2 byte-level alphabet: every byte 0…255 is written as one printable Unicode scalar, so that
/// byte-level BPE vocabularies can be stored as ordinary strings.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the 68 others (controls,
/// space, DEL, NBSP, soft hyphen…) are moved, in increasing byte order, to U+0100, U+0101, …, U+0143.
/// So a space is `Ġ` (U+0120) and a newline is `Ċ` (U+010A).
enum ByteLevel {
    /// `scalars[b]` is the scalar that stands for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 0x100
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                // 0x100…0x143 are all valid scalars, so the optional is never nil.
                table[byte] = Unicode.Scalar(shifted) ?? " "
                shifted += 1
            }
        }
        return table
    }()

    /// Inverse table over U+0000…U+0143: the byte a scalar stands for, or -1 if it stands for none.
    private static let inverse: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalars.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// Whether byte `b` is printable Latin-1 and so is its own scalar in the alphabet.
    private static func standsForItself(_ b: UInt8) -> Bool {
        (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
    }

    /// The byte that `scalar` stands for, or nil if it is not in the alphabet.
    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < inverse.count else { return nil }
        let byte = inverse[value]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// Decodes a byte-level string into the bytes it stands for. Returns nil if any scalar is outside
    /// the alphabet (the string is then not a byte-level string, e.g. an added token written in clear).
    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// Encodes raw bytes as a byte-level string (the inverse of `decode`).
    static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var result = String.UnicodeScalarView()
        for byte in bytes {
            result.append(scalars[Int(byte)])
        }
        return String(result)
    }
}
