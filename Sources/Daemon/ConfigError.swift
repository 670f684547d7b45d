// Why a configuration cannot be used.
//
// Every problem names where it is: a JSON pointer into the config file ("/catalogues/1/name"), a
// command-line flag ("--queue-depth"), or the file itself when it cannot be read or parsed.

import Foundation
import JSON

/// A configuration problem, reported at start-up before anything is opened.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config file (or a file it names) could not be read.
    case unreadable(path: String, reason: String)
    /// The config file is not valid JSON.
    case syntax(path: String, JSONParseError)
    /// A setting has a bad value. `field` is a JSON pointer (`/queue_depth`) or a flag (`--queue-depth`).
    case invalid(field: String, message: String)

    /// The field (pointer or flag) the problem concerns; the file path for unreadable or malformed files.
    public var field: String {
        switch self {
        case .unreadable(let path, _), .syntax(let path, _): return path
        case .invalid(let field, _): return field
        }
    }

    /// `field: message`, e.g. `/queue_depth: must be between 1 and 100000, got 0`.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read the config file: \(reason)"
        case .syntax(let path, let error):
            return "\(path):\(error)"
        case .invalid(let field, let message):
            return field.isEmpty ? "config: \(message)" : "\(field): \(message)"
        }
    }
}

/// Builds JSON pointers (RFC 6901) while walking a document.
struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    /// The pointer text; "" is the whole document.
    let text: String

    static let root = JSONPointer(text: "")

    /// The pointer to member `key` of the value here (`~` and `/` escaped as the RFC says).
    func appending(_ key: String) -> JSONPointer {
        let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        return JSONPointer(text: text + "/" + escaped)
    }

    /// The pointer to item `index` of the array here.
    func appending(_ index: Int) -> JSONPointer { JSONPointer(text: text + "/" + String(index)) }

    var description: String { text }

    /// An `.invalid` error at this pointer.
    func error(_ message: String) -> ConfigError { .invalid(field: text, message: message) }
}

/// A short name for a JSON value's type, used in "expected X, got Y" messages.
func typeName(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number(let number): return "the number \(abbreviated(number.text))"
    case .string(let text): return "the string \(JSONWriter.quoted(abbreviated(text)))"
    case .array: return "an array"
    case .object: return "an object"
    }
}

/// `text` cut to `limit` characters with "…" appended when longer, so a message never echoes a
/// whole oversized value back.
func abbreviated(_ text: String, limit: Int = 64) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + "…"
}
