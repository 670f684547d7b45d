// Rows as the teacher sees them: a request and the call it should produce, in the examples files'
// format (`{"prompt": …, "target": {"tool": …, "arguments": {…}}}`), plus where a teacher row came
// from and what the validator said about it.

import Foundation
import JSON
import ToolCalls

/// One training row: a request and the call (or refusal) it should produce.
public struct TeacherRow: Sendable, Equatable {
    /// The user's request.
    public var prompt: String
    /// The call the router should produce for it.
    public var call: ToolCall

    /// A row; the call is used as given (see `init(prompt:call:catalogue:)` for schema order).
    public init(prompt: String, call: ToolCall) {
        self.prompt = prompt
        self.call = call
    }

    /// A row whose arguments are put in the schema's property order, the order the decoder emits.
    public init(prompt: String, call: ToolCall, catalogue: ToolCatalogue) {
        self.init(prompt: prompt, call: call.inSchemaOrder(catalogue: catalogue))
    }

    /// The row as a JSON object: `{"prompt": …, "target": …}`.
    public var json: JSONValue {
        .object([(key: "prompt", value: .string(prompt)), (key: "target", value: call.json)])
    }

    /// The row as one compact JSONL line (no trailing newline).
    public var jsonLine: String { JSONWriter.compact(json) }

    /// The key rows are deduplicated by: the prompt lower-cased, whitespace runs collapsed, trailing
    /// punctuation dropped — a teacher that only re-cases a request or adds a full stop has not
    /// produced a new training row.
    public var dedupeKey: String {
        let words = prompt.lowercased().split(whereSeparator: { $0.isWhitespace || $0.isNewline })
        var key = words.joined(separator: " ")
        while let last = key.last, ".!?,;:".contains(last) { key.removeLast() }
        return key
    }
}

/// Where a teacher row came from.
public enum RowOrigin: Sendable, Equatable {
    /// A rewording of the example with this prompt; the call is the example's, unchanged.
    case paraphrase(of: String)
    /// A request the teacher proposed, with its call.
    case proposed
}

/// What the validator says about a candidate row.
public enum RowVerdict: Sendable, Equatable {
    /// The row may join the training data.
    case keep
    /// The row is refused. `reason` is a short stable category (counted in reports); `detail` says
    /// what exactly was wrong (a JSON pointer, the offending value).
    case reject(reason: String, detail: String)

    /// True for `.keep`.
    public var isKept: Bool { self == .keep }
}

/// A row the teacher sent, where it came from, which request produced it, and the verdict on it.
public struct TeacherCandidate: Sendable, Equatable {
    /// The row as parsed (paraphrases carry their source example's call).
    public var row: TeacherRow
    /// Paraphrase of an example, or a proposed request.
    public var origin: RowOrigin
    /// The 0-based index of the chat request whose answer held the row.
    public var request: Int
    /// Kept or rejected (with the reason).
    public var verdict: RowVerdict
}

/// Reading an examples file (JSONL of `{"prompt", "target"}`), with errors that name the line.
public enum ExampleRows {
    /// Reads every non-blank line of `path` as a row checked against `catalogue` (the call must parse
    /// and its arguments must satisfy the tool's schema).
    public static func load(path: String, catalogue: ToolCatalogue) throws(ExampleRowsError) -> [TeacherRow] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ExampleRowsError(path: path, line: 0, message: "cannot read: \(error.localizedDescription)")
        }
        var rows: [TeacherRow] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(trimmed) } catch {
                throw ExampleRowsError(path: path, line: index + 1, message: "not JSON: \(error)")
            }
            let row: TeacherRow
            do { row = try RowReader.row(from: value, catalogue: catalogue) } catch {
                throw ExampleRowsError(path: path, line: index + 1, message: error.description)
            }
            if let issue = catalogue.validate(row.call, origin: .request(row.prompt)).first {
                throw ExampleRowsError(path: path, line: index + 1, message: "/target/arguments\(issue.instancePointer): \(issue.message)")
            }
            rows.append(row)
        }
        return rows
    }
}

/// An examples file line that is not a valid row.
public struct ExampleRowsError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public let path: String
    /// The 1-based line (0: the file as a whole).
    public let line: Int
    /// What is wrong.
    public let message: String

    /// `path:line: message`.
    public var description: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }
}
