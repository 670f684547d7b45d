// What can be wrong with a tool catalogue. Every case names the JSON pointer of the offending
// value, so "/2/function/name: duplicate tool name" points at the third tool's name.

import JSON

/// Why a tool catalogue was rejected.
public enum CatalogueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The text is not valid JSON.
    case invalidJSON(JSONParseError)
    /// The document is not an array of tools.
    case notAnArray(found: String)
    /// A value that must be an object is something else.
    case notAnObject(found: String, pointer: String)
    /// A tool's `type` is missing or not "function".
    case unsupportedType(found: String, pointer: String)
    /// A required member is missing.
    case missingMember(String, pointer: String)
    /// A member that must be a string is something else.
    case notAString(found: String, pointer: String)
    /// A tool name outside `[A-Za-z0-9_-]{1,64}`.
    case invalidName(String, pointer: String)
    /// A tool name used twice; `firstPointer` is the earlier use.
    case duplicateName(String, pointer: String, firstPointer: String)
    /// The name `no_tool`, which the call format reserves for declining.
    case reservedName(String, pointer: String)
    /// `parameters` is not a JSON Schema for an object.
    case parametersNotObjectSchema(reason: String, pointer: String)
    /// `parameters` uses something `SchemaValidator` cannot check (an unsupported keyword or
    /// format, a bad `$ref`, ...); `pointer` locates it in the catalogue.
    case unsupportedSchema(SchemaValidationError, pointer: String)
    /// Arrays and objects nested deeper than `limit` (`NestingLimit.depth`) at `pointer`: the
    /// prompt renderer, the grammar compiler and the writers walk values recursively.
    case nestingTooDeep(limit: Int, pointer: String)

    /// The pointer of the offending value ("" for the whole document), when there is one.
    public var pointer: String? {
        switch self {
        case .unreadableFile, .invalidJSON: return nil
        case .notAnArray: return ""
        case .notAnObject(_, let pointer), .unsupportedType(_, let pointer), .missingMember(_, let pointer),
             .notAString(_, let pointer), .invalidName(_, let pointer), .duplicateName(_, let pointer, _),
             .reservedName(_, let pointer), .parametersNotObjectSchema(_, let pointer), .unsupportedSchema(_, let pointer),
             .nestingTooDeep(_, let pointer):
            return pointer
        }
    }

    /// The problem, prefixed by the JSON pointer of the offending value when there is one.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "cannot read tool catalogue \(path): \(reason)"
        case .invalidJSON(let error):
            return "tool catalogue is not valid JSON: \(error)"
        case .notAnArray(let found):
            return "/: a tool catalogue must be an array of tools, found \(found)"
        case .notAnObject(let found, let pointer):
            return "\(JSONPointer.display(pointer)): expected an object, found \(found)"
        case .unsupportedType(let found, let pointer):
            return "\(JSONPointer.display(pointer)): tool type must be \"function\", found \(found)"
        case .missingMember(let name, let pointer):
            return "\(JSONPointer.display(pointer)): missing \"\(name)\""
        case .notAString(let found, let pointer):
            return "\(JSONPointer.display(pointer)): expected a string, found \(found)"
        case .invalidName(let name, let pointer):
            return "\(JSONPointer.display(pointer)): invalid tool name \(JSONWriter.quoted(name)) (must match [A-Za-z0-9_-]{1,64})"
        case .duplicateName(let name, let pointer, let firstPointer):
            return "\(JSONPointer.display(pointer)): duplicate tool name \(JSONWriter.quoted(name)), first defined at \(firstPointer)"
        case .reservedName(let name, let pointer):
            return "\(JSONPointer.display(pointer)): the tool name \(JSONWriter.quoted(name)) is reserved for declining a request"
        case .parametersNotObjectSchema(let reason, let pointer):
            return "\(JSONPointer.display(pointer)): parameters must be an object schema: \(reason)"
        case .unsupportedSchema(let error, let pointer):
            let text = error.description
            let detail = text.hasPrefix(JSONPointer.display(error.pointer) + ": ")
                ? String(text.dropFirst(JSONPointer.display(error.pointer).count + 2)) : text
            return "\(JSONPointer.display(pointer)): \(detail)"
        case .nestingTooDeep(let limit, let pointer):
            return "\(JSONPointer.display(pointer)): arrays and objects nest deeper than \(limit) levels"
        }
    }
}

extension JSONValue {
    /// A short description of the value's kind for messages: `a string "x"`, `an array`, `null`.
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return "boolean \(flag)"
        case .number(let number): return "number \(number.text)"
        case .string(let text):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "string \(JSONWriter.quoted(shown))"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
