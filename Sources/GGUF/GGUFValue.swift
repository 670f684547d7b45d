// Metadata values of a GGUF file: the thirteen value types of the spec, and typed accessors.

/// One metadata value of a GGUF file.
///
/// Arrays are homogeneous in the file (every element has the array's element type); an array of
/// arrays may hold inner arrays of different element types. Not `indirect`: `Array` already stores
/// its elements out of line, and boxing every element of the 49,152-entry token table would cost
/// one heap allocation per token when a file is opened.
public enum GGUFValue: Equatable, Sendable {
    /// Type 0: unsigned 8-bit integer.
    case uint8(UInt8)
    /// Type 1: signed 8-bit integer.
    case int8(Int8)
    /// Type 2: unsigned 16-bit integer.
    case uint16(UInt16)
    /// Type 3: signed 16-bit integer.
    case int16(Int16)
    /// Type 4: unsigned 32-bit integer.
    case uint32(UInt32)
    /// Type 5: signed 32-bit integer.
    case int32(Int32)
    /// Type 6: IEEE 754 single.
    case float32(Float)
    /// Type 7: bool, one byte, 0 or 1.
    case bool(Bool)
    /// Type 8: UTF-8 string with a 64-bit length prefix.
    case string(String)
    /// Type 9: array (element type, 64-bit count, elements).
    case array([GGUFValue])
    /// Type 10: unsigned 64-bit integer.
    case uint64(UInt64)
    /// Type 11: signed 64-bit integer.
    case int64(Int64)
    /// Type 12: IEEE 754 double.
    case float64(Double)

    /// The value as an `Int` if it is any integer type and fits; nil for other types.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(exactly: v)
        default: nil
        }
    }

    /// The value as a `Double` if it is any numeric type (integer or floating point); nil otherwise.
    public var floatValue: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        case let .uint64(v): Double(v)
        case let .int64(v): Double(v)
        default: intValue.map(Double.init)
        }
    }

    /// The string, if this is a string value.
    public var stringValue: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    /// The bool, if this is a bool value.
    public var boolValue: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    /// The elements, if this is an array value.
    public var arrayValue: [GGUFValue]? {
        if case let .array(v) = self { return v }
        return nil
    }

    /// The type code this value is stored under in a GGUF file.
    var valueType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }
}

/// The type codes of GGUF metadata values, as stored in the file.
enum GGUFValueType: UInt32 {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type can take in a file: its fixed size, the 8-byte
    /// length of an (empty) string, or the 12-byte header of an (empty) array.
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }

    /// Lowercase name used in error messages ("uint32", "string", ...).
    var name: String { "\(self)" }
}
