// The canonical JSON text of a value.
//
// No whitespace; object members in stored order; numbers as their literal text; strings escape
// only what JSON requires: `\"`, `\\`, the short escapes \n \r \t \b \f, and `\u00xx` (lowercase
// hex) for the other control characters. Everything else, `/` and non-ASCII included, is written
// as raw UTF-8. The same value always gives the same bytes.

/// Writes `JSONValue`s as text.
public enum JSONWriter {
    /// The canonical compact form of `value`.
    public static func compact(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` as a canonical JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        writeString(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): out.append(contentsOf: number.text.utf8)
        case .string(let text): writeString(text, into: &out)
        case .array(let items):
            out.append(ASCII.openBracket)
            for (position, item) in items.enumerated() {
                if position > 0 { out.append(ASCII.comma) }
                write(item, into: &out)
            }
            out.append(ASCII.closeBracket)
        case .object(let members):
            out.append(ASCII.openBrace)
            for (position, member) in members.enumerated() {
                if position > 0 { out.append(ASCII.comma) }
                writeString(member.key, into: &out)
                out.append(ASCII.colon)
                write(member.value, into: &out)
            }
            out.append(ASCII.closeBrace)
        }
    }

    private static func writeString(_ text: String, into out: inout [UInt8]) {
        let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(ASCII.quote)
        for byte in text.utf8 {
            switch byte {
            case ASCII.quote: out.append(ASCII.backslash); out.append(ASCII.quote)
            case ASCII.backslash: out.append(ASCII.backslash); out.append(ASCII.backslash)
            case ASCII.newline: out.append(ASCII.backslash); out.append(ASCII.lowerN)
            case ASCII.carriageReturn: out.append(ASCII.backslash); out.append(0x72)
            case ASCII.tab: out.append(ASCII.backslash); out.append(ASCII.lowerT)
            case 0x08: out.append(ASCII.backslash); out.append(0x62)
            case 0x0C: out.append(ASCII.backslash); out.append(ASCII.lowerF)
            case 0x00..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(ASCII.quote)
    }
}

extension JSONValue: CustomStringConvertible {
    /// The canonical compact JSON text (`JSONWriter.compact`).
    public var description: String { JSONWriter.compact(self) }
}
