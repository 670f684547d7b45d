// Test helpers: a tiny JSON reader for writing schemas as text (the JSON target's parser is
// not used here), and accept/reject checks against the reference recognizer.

import Grammar
import JSON
import SchemaGrammar
import Testing

/// Reads JSON text into a `JSONValue` (objects keep member order). Test use only.
struct TestJSON {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let scalars: [Unicode.Scalar]
    private var index = 0

    static func parse(_ text: String) throws -> JSONValue {
        var reader = TestJSON(scalars: Array(text.unicodeScalars))
        let value = try reader.value()
        reader.skipSpace()
        guard reader.index == reader.scalars.count else { throw Failure(description: "trailing text at \(reader.index)") }
        return value
    }

    private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    private mutating func skipSpace() {
        while index < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[index]) { index += 1 }
    }

    private mutating func expect(_ c: Unicode.Scalar) throws {
        skipSpace()
        guard index < scalars.count, scalars[index] == c else { throw Failure(description: "expected \(c) at \(index)") }
        index += 1
    }

    private mutating func value() throws -> JSONValue {
        skipSpace()
        guard index < scalars.count else { throw Failure(description: "unexpected end") }
        switch scalars[index] {
        case "{":
            index += 1
            var members: [(key: String, value: JSONValue)] = []
            skipSpace()
            if scalars[index] == "}" { index += 1; return .object(members) }
            while true {
                skipSpace()
                let key = try string()
                try expect(":")
                members.append((key, try value()))
                skipSpace()
                if scalars[index] == "," { index += 1; continue }
                try expect("}")
                return .object(members)
            }
        case "[":
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if scalars[index] == "]" { index += 1; return .array(items) }
            while true {
                items.append(try value())
                skipSpace()
                if scalars[index] == "," { index += 1; continue }
                try expect("]")
                return .array(items)
            }
        case "\"": return .string(try string())
        case "t": index += 4; return .bool(true)
        case "f": index += 5; return .bool(false)
        case "n": index += 4; return .null
        default:
            let start = index
            while index < scalars.count, "-+.eE0123456789".unicodeScalars.contains(scalars[index]) { index += 1 }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars[start..<index])
            guard !text.isEmpty else { throw Failure(description: "unexpected character at \(start)") }
            return .number(JSONNumber(literal: text))
        }
    }

    private mutating func string() throws -> String {
        try expect("\"")
        var out = ""
        while index < scalars.count, scalars[index] != "\"" {
            var c = scalars[index]
            index += 1
            if c == "\\" {
                let e = scalars[index]
                index += 1
                switch e {
                case "n": c = "\n"
                case "t": c = "\t"
                case "r": c = "\r"
                case "b": c = "\u{8}"
                case "f": c = "\u{C}"
                case "u":
                    var text = ""
                    text.unicodeScalars.append(contentsOf: scalars[index..<index + 4])
                    index += 4
                    c = Unicode.Scalar(UInt32(text, radix: 16) ?? 0x3F) ?? "?"
                default: c = e
                }
            }
            out.unicodeScalars.append(c)
        }
        try expect("\"")
        return out
    }
}

/// A schema with texts its grammar must and must not match.
struct AcceptRejectCase: Sendable, CustomTestStringConvertible {
    var schema: String
    var accept: [String]
    var reject: [String]

    init(_ schema: String, accept: [String], reject: [String] = []) {
        self.schema = schema
        self.accept = accept
        self.reject = reject
    }

    var testDescription: String { schema }
}

/// Compiles `schema` (JSON text).
func compile(_ schema: String, options: SchemaCompilerOptions = .init()) throws -> Grammar {
    try SchemaCompiler.compile(try TestJSON.parse(schema), options: options)
}

/// Checks one accept/reject case with the reference recognizer.
func check(_ testCase: AcceptRejectCase, options: SchemaCompilerOptions = .init()) throws {
    let grammar = try compile(testCase.schema, options: options)
    let recognizer = try GrammarRecognizer(grammar)
    for text in testCase.accept {
        let matched = recognizer.matches(text)
        #expect(matched, "should accept \(text)")
    }
    for text in testCase.reject {
        let matched = recognizer.matches(text)
        #expect(!matched, "should reject \(text)")
    }
}

/// The error compiling `schema` throws, or nil.
func compileError(_ schema: String) throws -> SchemaCompileError? {
    let value = try TestJSON.parse(schema)
    do {
        _ = try SchemaCompiler.compile(value)
        return nil
    } catch {
        return error
    }
}
