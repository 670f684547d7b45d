// Errors in a schema handed to `SchemaValidator`, and the issues it reports about instances.

import JSON

/// Why a schema cannot be used for validation. The validator fails closed: anything it does
/// not understand is an error at construction, never silently ignored.
public enum SchemaValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A schema (or subschema) that is neither an object nor a boolean.
    case notASchema(found: String, pointer: String)
    /// A keyword the validator does not implement.
    case unsupportedKeyword(String, pointer: String)
    /// A known keyword with a value of the wrong kind or range.
    case invalidKeywordValue(String, reason: String, pointer: String)
    /// A `pattern` that does not compile.
    case invalidPattern(String, reason: String, pointer: String)
    /// A `format` other than date, time, date-time, email, uuid and uri.
    case unsupportedFormat(String, pointer: String)
    /// A `$ref` that is not a local pointer into this schema, or points at nothing.
    case unresolvedReference(String, pointer: String)
    /// References or combinators that loop back to the same schema without consuming any of
    /// the instance (for example `{"$ref": "#"}` at the root), which would never terminate.
    case referenceCycle(pointer: String)
    /// Subschemas (followed through `$ref`) nested deeper than `limit`, or a chain of `$ref`s and
    /// combinators applied to one value longer than it: `pointer` is where the bound was reached.
    case nestingTooDeep(limit: Int, pointer: String)

    /// The JSON pointer, within the schema, of the offending value.
    public var pointer: String {
        switch self {
        case .notASchema(_, let pointer), .unsupportedKeyword(_, let pointer), .invalidKeywordValue(_, _, let pointer),
             .invalidPattern(_, _, let pointer), .unsupportedFormat(_, let pointer), .unresolvedReference(_, let pointer),
             .referenceCycle(let pointer), .nestingTooDeep(_, let pointer):
            return pointer
        }
    }

    /// The problem, prefixed by the JSON pointer of the offending part of the schema.
    public var description: String {
        switch self {
        case .notASchema(let found, let pointer):
            return "\(JSONPointer.display(pointer)): a schema must be an object or a boolean, found \(found)"
        case .unsupportedKeyword(let keyword, let pointer):
            return "\(JSONPointer.display(pointer)): unsupported keyword \(JSONWriter.quoted(keyword))"
        case .invalidKeywordValue(let keyword, let reason, let pointer):
            return "\(JSONPointer.display(pointer)): invalid \(JSONWriter.quoted(keyword)): \(reason)"
        case .invalidPattern(let pattern, let reason, let pointer):
            let shown = pattern.unicodeScalars.count > 80 ? String(pattern.unicodeScalars.prefix(80)) + "…" : pattern
            return "\(JSONPointer.display(pointer)): invalid pattern \(JSONWriter.quoted(shown)): \(reason)"
        case .unsupportedFormat(let format, let pointer):
            return "\(JSONPointer.display(pointer)): unsupported format \(JSONWriter.quoted(format))"
        case .unresolvedReference(let reference, let pointer):
            return "\(JSONPointer.display(pointer)): cannot resolve $ref \(JSONWriter.quoted(reference))"
        case .referenceCycle(let pointer):
            return "\(JSONPointer.display(pointer)): schema refers back to itself without consuming any input"
        case .nestingTooDeep(let limit, let pointer):
            return "\(JSONPointer.display(pointer)): schema nests deeper than \(limit) levels (counting subschemas and $ref links); "
                + "refusing to follow it further"
        }
    }
}

/// One way an instance fails its schema.
public struct ValidationIssue: Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer of the offending part of the instance ("" is the whole instance).
    public let instancePointer: String
    /// JSON pointer of the keyword that failed, within the schema (e.g. "/properties/a/minLength").
    public let schemaPointer: String
    /// What is wrong, in words.
    public let message: String

    /// An issue with explicit fields.
    public init(instancePointer: String, schemaPointer: String, message: String) {
        self.instancePointer = instancePointer
        self.schemaPointer = schemaPointer
        self.message = message
    }

    /// `instance-pointer: message (schema schema-pointer)`.
    public var description: String {
        "\(JSONPointer.display(instancePointer)): \(message) (schema \(JSONPointer.display(schemaPointer)))"
    }
}
