// A JSON value that keeps object members in document order.
//
// Order matters here: a tool's arguments follow its schema's `properties` order, and the canonical
// serialiser writes keys in a fixed order. Foundation's JSONSerialization does not keep it.

/// A parsed JSON document. Objects keep their members in the order they appeared.
public indirect enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    /// A number, with its source text kept so integers beyond 2^53 and exact decimals survive.
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    /// Members in document order; keys are unique (the parser rejects duplicates).
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .number(let n): hasher.combine(2); hasher.combine(n)
        case .string(let s): hasher.combine(3); hasher.combine(s)
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .object(let members):
            hasher.combine(5)
            for m in members { hasher.combine(m.key); hasher.combine(m.value) }
        }
    }

    /// The member named `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Object members in order, or nil.
    public var objectMembers: [(key: String, value: JSONValue)]? {
        if case .object(let m) = self { return m } else { return nil }
    }
    /// Array items, or nil.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// String value, or nil.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// Bool value, or nil.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// Number as a Double, or nil.
    public var doubleValue: Double? { if case .number(let n) = self { return n.doubleValue } else { return nil } }
    /// Number as an exact Int when it is an integer that fits, or nil.
    public var intValue: Int? { if case .number(let n) = self { return n.intValue } else { return nil } }
}

/// A JSON number as written. Two numbers are equal when they denote the same value (1, 1.0 and 1e0 are equal).
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal text (RFC 8259 number syntax).
    public let text: String

    /// Wraps a literal that is known to be valid JSON number syntax.
    public init(literal text: String) { self.text = text }
    /// An integer.
    public init(_ value: Int) { self.text = String(value) }
    /// A finite double, written in its shortest round-trip form.
    public init(_ value: Double) { self.text = value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)" }

    /// The value as a Double (may round).
    public var doubleValue: Double { Double(text) ?? .nan }
    /// The value as an Int when it is integral and fits exactly.
    public var intValue: Int? {
        if let i = Int(text) { return i }
        let d = doubleValue
        guard d == d.rounded(), abs(d) < 9.007199254740992e15 else { return nil }
        return Int(d)
    }
    /// True when the value is a whole number (1, 1.0, 1e2 are integers; 1.5 is not).
    public var isInteger: Bool { let d = doubleValue; return d.isFinite && d == d.rounded() }

    public var description: String { text }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.text == rhs.text { return true }
        if let a = Int(lhs.text), let b = Int(rhs.text) { return a == b }
        return lhs.doubleValue == rhs.doubleValue
    }

    public func hash(into hasher: inout Hasher) {
        let d = doubleValue
        if let i = Int(text) { hasher.combine(Double(i)) } else { hasher.combine(d) }
    }
}
