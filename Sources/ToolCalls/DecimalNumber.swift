// Exact arithmetic-free comparison of JSON number literals, and JSON Schema equality.
//
// A literal is normalised to sign, significant digits and the position of the decimal point, so
// 1, 1.0, 10e-1 and 0.1e1 compare equal and 2^64 + 1 is never rounded to a neighbour.

import JSON

/// A JSON number literal as sign × 0.d₁d₂d₃… × 10^pointPosition.
struct DecimalNumber: Comparable {
    /// True for negative non-zero values.
    let isNegative: Bool
    /// Significant digits (0–9) without leading or trailing zeros; empty for zero.
    let digits: [UInt8]
    /// How many of the digits stand before the decimal point (may be negative or exceed the count).
    let pointPosition: Int

    /// Exponents saturate here: every |exponent| ≥ 10¹⁵ counts as 10¹⁵. Below that, comparison is exact.
    static let exponentBound = 1_000_000_000_000_000

    /// Normalises a valid RFC 8259 number literal.
    init(_ number: JSONNumber) {
        var negative = false
        var digits: [UInt8] = []
        var point: Int?
        var exponent = 0
        var exponentNegative = false
        var inExponent = false
        for byte in number.text.utf8 {
            switch byte {
            case UInt8(ascii: "-") where !inExponent: negative = true
            case UInt8(ascii: "-"): exponentNegative = true
            case UInt8(ascii: "+"): break
            case UInt8(ascii: "."): point = digits.count
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = byte - UInt8(ascii: "0")
                if inExponent {
                    exponent = exponent >= Self.exponentBound / 10 ? Self.exponentBound : min(exponent * 10 + Int(digit), Self.exponentBound)
                } else {
                    digits.append(digit)
                }
            default: break
            }
        }
        var position = (point ?? digits.count) + (exponentNegative ? -exponent : exponent)
        let leadingZeros = digits.prefix { $0 == 0 }.count
        digits.removeFirst(leadingZeros)
        position -= leadingZeros
        while digits.last == 0 { digits.removeLast() }
        self.isNegative = negative && !digits.isEmpty
        self.digits = digits
        self.pointPosition = digits.isEmpty ? 0 : position
    }

    /// True when the value is a whole number.
    var isInteger: Bool { digits.count <= pointPosition || digits.isEmpty }

    static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let magnitudeLess = lessInMagnitude(lhs, rhs)
        let magnitudeGreater = lessInMagnitude(rhs, lhs)
        return lhs.isNegative ? magnitudeGreater : magnitudeLess
    }

    private static func lessInMagnitude(_ lhs: DecimalNumber, _ rhs: DecimalNumber) -> Bool {
        if lhs.digits.isEmpty || rhs.digits.isEmpty { return lhs.digits.isEmpty && !rhs.digits.isEmpty }
        if lhs.pointPosition != rhs.pointPosition { return lhs.pointPosition < rhs.pointPosition }
        return lhs.digits.lexicographicallyPrecedes(rhs.digits)
    }
}

/// Equality as JSON Schema defines it for `const`, `enum` and `uniqueItems`: numbers by value,
/// strings by code points, arrays in order, objects as unordered sets of members.
func schemaEqual(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case let (.bool(a), .bool(b)): return a == b
    case let (.number(a), .number(b)): return DecimalNumber(a) == DecimalNumber(b)
    case let (.string(a), .string(b)): return a.utf8.elementsEqual(b.utf8)
    case let (.array(a), .array(b)): return a.count == b.count && zip(a, b).allSatisfy { schemaEqual($0, $1) }
    case let (.object(a), .object(b)):
        guard a.count == b.count else { return false }
        return a.allSatisfy { member in
            b.contains { $0.key.utf8.elementsEqual(member.key.utf8) && schemaEqual($0.value, member.value) }
        }
    default: return false
    }
}
