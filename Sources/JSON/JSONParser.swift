// A strict RFC 8259 parser working on UTF-8 bytes.
//
// One value, optional surrounding whitespace, nothing else: no comments, no trailing commas, no
// NaN or Infinity, no single quotes. Numbers keep their literal text. Object members keep their
// order and duplicate keys are rejected. String contents must be well-formed UTF-8 and escapes
// must be valid, with surrogate pairs combined and lone surrogates rejected.

/// Parses JSON text into `JSONValue`.
public enum JSONParser {
    /// Parses one JSON document from a Swift string.
    public static func parse(_ text: String, limits: JSONLimits = .init()) throws(JSONParseError) -> JSONValue {
        try parse(bytes: text.utf8, limits: limits)
    }

    /// Parses one JSON document from UTF-8 bytes.
    public static func parse(bytes: some Collection<UInt8>, limits: JSONLimits = .init()) throws(JSONParseError) -> JSONValue {
        let count = bytes.count
        guard count <= limits.maxBytes else {
            throw .documentTooLarge(byteCount: count, limit: limits.maxBytes)
        }
        let direct = bytes.withContiguousStorageIfAvailable { buffer in
            parseBuffer(buffer, limits: limits)
        }
        if let direct { return try direct.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { parseBuffer($0, limits: limits) }.get()
    }

    private static func parseBuffer(_ buffer: UnsafeBufferPointer<UInt8>, limits: JSONLimits) -> Result<JSONValue, JSONParseError> {
        var parser = ByteParser(bytes: buffer, limits: limits)
        do throws(JSONParseError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

/// Byte values the grammar refers to.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let period: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let upperE: UInt8 = 0x45
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let lowerE: UInt8 = 0x65
    static let lowerF: UInt8 = 0x66
    static let lowerN: UInt8 = 0x6E
    static let lowerT: UInt8 = 0x74
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

/// The recursive-descent parser over one contiguous buffer. Valid only while the buffer is.
struct ByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONLimits
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The deepest nesting accepted: the caller's limit, never beyond the shared walk bound (so
    /// every value parsed can be walked recursively by the rest of the program).
    var depthLimit: Int { min(limits.maxDepth, NestingLimit.depth) }

    /// The current byte, or nil at the end.
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw .trailingCharacters(at: location(index)) }
        return value
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case ASCII.space, ASCII.newline, ASCII.carriageReturn, ASCII.tab: index += 1
            default: return
            }
        }
    }

    /// Parses the value starting at `index`; `depth` is the nesting of its container.
    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let byte = current else { throw unexpected("a JSON value") }
        switch byte {
        case ASCII.openBrace: return try parseObject(depth: depth + 1)
        case ASCII.openBracket: return try parseArray(depth: depth + 1)
        case ASCII.quote: return .string(try parseString())
        case ASCII.lowerT: try expectLiteral("true"); return .bool(true)
        case ASCII.lowerF: try expectLiteral("false"); return .bool(false)
        case ASCII.lowerN: try expectLiteral("null"); return .null
        case ASCII.minus, ASCII.zero...ASCII.nine: return .number(try parseNumber())
        default: throw unexpected("a JSON value")
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= depthLimit else {
            throw .nestingTooDeep(limit: depthLimit, at: location(index))
        }
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var keySet = Set<String>()
        skipWhitespace()
        if current == ASCII.closeBrace {
            index += 1
            return .object(members)
        }
        while true {
            guard current == ASCII.quote else { throw unexpected("'\"' to begin an object key") }
            let keyStart = index
            let key = try parseString()
            if isDuplicate(key, in: members, keySet: &keySet) {
                throw .duplicateKey(key, at: location(keyStart))
            }
            skipWhitespace()
            guard current == ASCII.colon else { throw unexpected("':' after object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key: key, value: value))
            skipWhitespace()
            switch current {
            case ASCII.comma:
                index += 1
                skipWhitespace()
            case ASCII.closeBrace:
                index += 1
                return .object(members)
            default:
                throw unexpected("',' or '}' after object member")
            }
        }
    }

    /// Whether `key` repeats a key of `members`. Keys are compared by their code points, not by
    /// Swift's canonical equivalence, so "é" and "e\u{301}" are different keys. Large objects
    /// use `keySet` (canonical equality, a superset) as a prefilter.
    private func isDuplicate(_ key: String, in members: [(key: String, value: JSONValue)], keySet: inout Set<String>) -> Bool {
        let linearLimit = 12
        if members.count >= linearLimit {
            if keySet.isEmpty { keySet = Set(members.map(\.key)) }
            let (inserted, _) = keySet.insert(key)
            if inserted { return false }
        }
        return members.contains { $0.key.utf8.elementsEqual(key.utf8) }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= depthLimit else {
            throw .nestingTooDeep(limit: depthLimit, at: location(index))
        }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == ASCII.closeBracket {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            switch current {
            case ASCII.comma:
                index += 1
                skipWhitespace()
            case ASCII.closeBracket:
                index += 1
                return .array(items)
            default:
                throw unexpected("',' or ']' after array element")
            }
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let start = index
        let length = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            bytes.count - start >= length && (0..<length).allSatisfy { bytes[start + $0] == expected[$0] }
        }
        guard matches else {
            var end = start
            while end < bytes.count, end - start < 12, isLetter(bytes[end]) { end += 1 }
            let found = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            throw .unexpected(expected: "'\(word)'", found: "'\(found)'", at: location(start))
        }
        index += length
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as text.
    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        if current == ASCII.minus { index += 1 }
        guard let first = current, isDigit(first) else {
            throw .invalidNumber(reason: "expected a digit after '-'", at: location(index))
        }
        index += 1
        if first == ASCII.zero {
            if let next = current, isDigit(next) {
                throw .invalidNumber(reason: "leading zeros are not allowed", at: location(start))
            }
        } else {
            skipDigits()
        }
        if current == ASCII.period {
            index += 1
            guard let digit = current, isDigit(digit) else {
                throw .invalidNumber(reason: "expected a digit after the decimal point", at: location(index))
            }
            skipDigits()
        }
        if current == ASCII.lowerE || current == ASCII.upperE {
            index += 1
            if current == ASCII.plus || current == ASCII.minus { index += 1 }
            guard let digit = current, isDigit(digit) else {
                throw .invalidNumber(reason: "expected a digit in the exponent", at: location(index))
            }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return JSONNumber(literal: text)
    }

    private func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= ASCII.zero && byte <= ASCII.nine }

    private mutating func skipDigits() {
        while let byte = current, isDigit(byte) { index += 1 }
    }

    // MARK: Errors

    func location(_ offset: Int) -> JSONLocation { JSONLocation(offset: offset, in: bytes) }

    /// An `unexpected` error at the current byte.
    func unexpected(_ expected: String) -> JSONParseError {
        .unexpected(expected: expected, found: describeCurrent(), at: location(index))
    }

    private func describeCurrent() -> String {
        guard let byte = current else { return "end of input" }
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 {
            let window = UnsafeBufferPointer(rebasing: bytes[index..<min(bytes.count, index + 4)])
            if let scalar = String(decoding: window, as: UTF8.self).unicodeScalars.first, scalar != "\u{FFFD}" {
                return "'\(scalar)'"
            }
        }
        let digits = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (digits.count < 2 ? "0" : "") + digits
    }
}
