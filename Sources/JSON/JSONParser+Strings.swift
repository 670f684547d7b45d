// String literals: the fast path copies an escape-free run straight into a String; the slow path
// decodes escapes into a byte buffer. Both check UTF-8 well-formedness (Unicode Table 3-7).

extension ByteParser {
    /// Parses the string literal whose opening quote is at `index`.
    mutating func parseString() throws(JSONParseError) -> String {
        let open = index
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.quote {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == ASCII.backslash {
                var buffer = Array(bytes[start..<index])
                return try parseEscapedString(open: open, into: &buffer)
            }
            try advanceOverCharacter(byte)
        }
        throw .unterminatedString(at: location(open))
    }

    /// Continues a string at the backslash at `index`, appending decoded bytes to `buffer`.
    private mutating func parseEscapedString(open: Int, into buffer: inout [UInt8]) throws(JSONParseError) -> String {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.quote {
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if byte == ASCII.backslash {
                try decodeEscape(open: open, into: &buffer)
                continue
            }
            let start = index
            try advanceOverCharacter(byte)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        }
        throw .unterminatedString(at: location(open))
    }

    /// Steps over one unescaped character starting with `byte`, checking it.
    private mutating func advanceOverCharacter(_ byte: UInt8) throws(JSONParseError) {
        if byte < 0x20 { throw .controlCharacterInString(byte, at: location(index)) }
        if byte < 0x80 {
            index += 1
        } else {
            index += try utf8SequenceLength(at: index)
        }
    }

    /// The length of the well-formed UTF-8 sequence at `start`, or an error.
    private func utf8SequenceLength(at start: Int) throws(JSONParseError) -> Int {
        let lead = bytes[start]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw .invalidUTF8(at: location(start))
        }
        guard start + length <= bytes.count else { throw .invalidUTF8(at: location(start)) }
        guard secondRange.contains(bytes[start + 1]) else { throw .invalidUTF8(at: location(start)) }
        var offset = 2
        while offset < length {
            guard bytes[start + offset] & 0xC0 == 0x80 else { throw .invalidUTF8(at: location(start)) }
            offset += 1
        }
        return length
    }

    /// Decodes the escape at `index` (a backslash) and appends its UTF-8 bytes.
    private mutating func decodeEscape(open: Int, into buffer: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = index
        guard index + 1 < bytes.count else { throw .unterminatedString(at: location(open)) }
        let code = bytes[index + 1]
        index += 2
        switch code {
        case ASCII.quote: buffer.append(ASCII.quote)
        case ASCII.backslash: buffer.append(ASCII.backslash)
        case ASCII.slash: buffer.append(ASCII.slash)
        case 0x62: buffer.append(0x08)  // b
        case ASCII.lowerF: buffer.append(0x0C)
        case ASCII.lowerN: buffer.append(ASCII.newline)
        case 0x72: buffer.append(ASCII.carriageReturn)  // r
        case ASCII.lowerT: buffer.append(ASCII.tab)
        case 0x75:  // u
            let scalar = try decodeUnicodeEscape(escapeStart: escapeStart)
            appendUTF8(scalar, to: &buffer)
        default:
            throw .invalidEscape(describeEscape(at: escapeStart), at: location(escapeStart))
        }
    }

    /// Decodes `XXXX` after `\u` (and a following low surrogate escape when needed).
    private mutating func decodeUnicodeEscape(escapeStart: Int) throws(JSONParseError) -> Unicode.Scalar {
        let unit = try readHex4(escapeStart: escapeStart)
        switch unit {
        case 0xD800...0xDBFF:
            let pairStart = index
            guard index + 1 < bytes.count, bytes[index] == ASCII.backslash, bytes[index + 1] == 0x75 else {
                throw .loneSurrogate(unit, at: location(escapeStart))
            }
            index += 2
            let low = try readHex4(escapeStart: pairStart)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw .loneSurrogate(unit, at: location(escapeStart))
            }
            let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw .loneSurrogate(unit, at: location(escapeStart)) }
            return scalar
        case 0xDC00...0xDFFF:
            throw .loneSurrogate(unit, at: location(escapeStart))
        default:
            guard let scalar = Unicode.Scalar(unit) else { throw .loneSurrogate(unit, at: location(escapeStart)) }
            return scalar
        }
    }

    /// Reads four hex digits at `index`.
    private mutating func readHex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let digit = hexValue(bytes[index]) else {
                throw .invalidEscape(describeEscape(at: escapeStart), at: location(escapeStart))
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// The escape at `start` as written, for messages: `\q`, or `\u12G4` cut at six characters.
    private func describeEscape(at start: Int) -> String {
        guard start + 1 < bytes.count else { return "\\" }
        let isUnicode = bytes[start + 1] == 0x75
        var end = start + 2
        if isUnicode {
            while end < min(bytes.count, start + 6), bytes[end] >= 0x20, bytes[end] < 0x7F, bytes[end] != ASCII.quote { end += 1 }
        }
        let code = bytes[start + 1]
        if !isUnicode && (code < 0x20 || code >= 0x7F) {
            let digits = String(code, radix: 16, uppercase: true)
            return "\\ followed by byte 0x" + (digits.count < 2 ? "0" : "") + digits
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    private func appendUTF8(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
        let value = scalar.value
        switch value {
        case 0..<0x80:
            buffer.append(UInt8(value))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | (value >> 6)))
            buffer.append(UInt8(0x80 | (value & 0x3F)))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | (value >> 12)))
            buffer.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (value & 0x3F)))
        default:
            buffer.append(UInt8(0xF0 | (value >> 18)))
            buffer.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            buffer.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (value & 0x3F)))
        }
    }
}
