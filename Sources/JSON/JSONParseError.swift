// Parse limits and the errors the JSON parser reports.
//
// Every error that concerns a place in the document carries that place as a byte offset plus a
// 1-based line and column, so a message reads like "1:17: expected ',' or '}' after object member".

/// Bounds the parser enforces before and while reading a document.
public struct JSONLimits: Sendable, Equatable {
    /// The deepest nesting of arrays and objects accepted (`[[1]]` has depth 2).
    public var maxDepth: Int
    /// The largest document accepted, in UTF-8 bytes.
    public var maxBytes: Int

    /// Limits with the given bounds; the defaults suit tool calls and catalogues.
    public init(maxDepth: Int = 64, maxBytes: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }
}

/// A place in a JSON document.
public struct JSONLocation: Sendable, Equatable, CustomStringConvertible {
    /// Zero-based offset of the byte where the problem was found.
    public let offset: Int
    /// One-based line number (lines end at `\n`).
    public let line: Int
    /// One-based column, counted in Unicode code points from the start of the line.
    public let column: Int

    /// A location with explicit coordinates.
    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// Computes line and column of `offset` by scanning `bytes` up to it.
    init(offset: Int, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        self.init(offset: offset, line: line, column: column)
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// Why a document is not acceptable JSON.
public enum JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The document exceeds `JSONLimits.maxBytes`; nothing was parsed.
    case documentTooLarge(byteCount: Int, limit: Int)
    /// A token other than the one the grammar requires; `found` describes what was there.
    case unexpected(expected: String, found: String, at: JSONLocation)
    /// A string with no closing quote; the location is its opening quote.
    case unterminatedString(at: JSONLocation)
    /// A backslash followed by something that is not a JSON escape; the payload is the escape as written.
    case invalidEscape(String, at: JSONLocation)
    /// A `\u` escape of a UTF-16 surrogate that is not part of a high–low pair.
    case loneSurrogate(UInt16, at: JSONLocation)
    /// A raw control character (below U+0020) inside a string.
    case controlCharacterInString(UInt8, at: JSONLocation)
    /// A number that breaks RFC 8259 number syntax, with the rule it broke.
    case invalidNumber(reason: String, at: JSONLocation)
    /// Arrays and objects nested deeper than `JSONLimits.maxDepth`.
    case nestingTooDeep(limit: Int, at: JSONLocation)
    /// An object key that already appeared in the same object; the location is the repeated key.
    case duplicateKey(String, at: JSONLocation)
    /// Something other than whitespace after the one top-level value.
    case trailingCharacters(at: JSONLocation)
    /// Bytes inside a string that are not well-formed UTF-8.
    case invalidUTF8(at: JSONLocation)

    /// Where the problem is, when it concerns a place in the document.
    public var location: JSONLocation? {
        switch self {
        case .documentTooLarge: return nil
        case .unexpected(_, _, let at), .unterminatedString(let at), .invalidEscape(_, let at),
             .loneSurrogate(_, let at), .controlCharacterInString(_, let at), .invalidNumber(_, let at),
             .nestingTooDeep(_, let at), .duplicateKey(_, let at), .trailingCharacters(let at),
             .invalidUTF8(let at):
            return at
        }
    }

    /// The problem in words, without the location.
    public var message: String {
        switch self {
        case .documentTooLarge(_, let limit):
            return "document larger than \(limit) bytes"
        case .unexpected(let expected, let found, _):
            return "expected \(expected), found \(found)"
        case .unterminatedString:
            return "unterminated string"
        case .invalidEscape(let escape, _):
            return "invalid escape '\(escape)'"
        case .loneSurrogate(let unit, _):
            return "lone surrogate \\u\(hex4(unit))"
        case .controlCharacterInString(let byte, _):
            return "control character U+\(hex4(UInt16(byte))) must be escaped in a string"
        case .invalidNumber(let reason, _):
            return "invalid number: \(reason)"
        case .nestingTooDeep(let limit, _):
            return "nesting deeper than \(limit)"
        case .duplicateKey(let key, _):
            return "duplicate key \"\(key)\""
        case .trailingCharacters:
            return "trailing characters after the JSON value"
        case .invalidUTF8(let at):
            return "invalid UTF-8 at byte \(at.offset)"
        }
    }

    /// `line:column: message`, or just the message when there is no location.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

/// Four uppercase hex digits.
private func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
