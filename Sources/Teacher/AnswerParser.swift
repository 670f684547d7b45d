// Reading rows out of a chat answer. Models wrap JSON in code fences, put prose before and after it,
// write one object per line instead of an array, or stop mid-object at the token limit. The parser
// scans for bracketed spans outside string literals; a span that parses is interpreted as rows, one
// that does not is searched inside for complete rows (so the rows before a truncation survive), and a
// broken span that was clearly meant to be a row (it mentions "prompt") counts as one unparseable row.

import JSON
import ToolCalls

/// The rows found in one answer.
public struct ParsedAnswer: Sendable, Equatable {
    /// Rows read, in answer order.
    public var rows: [TeacherRow] = []
    /// Row-shaped text that could not be read (broken JSON, or an object that is not a row).
    public var unparseable: Int = 0
    /// Why each unparseable row could not be read, in answer order.
    public var problems: [String] = []

    /// Rows the answer held, read or not.
    public var received: Int { rows.count + unparseable }
}

/// Finds rows in free-form model output.
public enum AnswerParser {
    /// The rows in `text`. Never throws: what cannot be read is counted in `unparseable`.
    public static func parse(_ text: String, catalogue: ToolCatalogue) -> ParsedAnswer {
        var answer = ParsedAnswer()
        let bytes = Array(text.utf8)
        scan(bytes, from: 0, to: bytes.count, catalogue: catalogue, into: &answer)
        return answer
    }

    /// Scans `bytes[start..<end]` for top-level spans; returns whether any row (read or not) was found.
    @discardableResult
    private static func scan(_ bytes: [UInt8], from start: Int, to end: Int, catalogue: ToolCatalogue, into answer: inout ParsedAnswer) -> Bool {
        var found = false
        var index = start
        while index < end {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") else { index += 1; continue }
            let (spanEnd, closed) = matchingClose(bytes, from: index, limit: end)
            let span = bytes[index..<spanEnd]
            if closed, let value = try? JSONParser.parse(bytes: span) {
                found = interpret(value, catalogue: catalogue, into: &answer) || found
            } else {
                // Broken: look for complete rows inside, past the opening bracket.
                let inner = scan(bytes, from: index + 1, to: closed ? spanEnd - 1 : spanEnd, catalogue: catalogue, into: &answer)
                if !inner && mentionsPrompt(span) {
                    answer.unparseable += 1
                    answer.problems.append(closed ? "broken JSON: \(excerpt(span))" : "cut off: \(excerpt(span))")
                }
                found = found || inner || mentionsPrompt(span)
            }
            index = spanEnd
        }
        return found
    }

    /// Reads a parsed value as rows: `{"rows": [...]}` (or another single array member), a bare array
    /// of rows, or one row object. Returns whether it held any row-shaped value.
    private static func interpret(_ value: JSONValue, catalogue: ToolCatalogue, into answer: inout ParsedAnswer) -> Bool {
        switch value {
        case .array(let items):
            var found = false
            for item in items { found = interpret(item, catalogue: catalogue, into: &answer) || found }
            return found
        case .object(let members):
            if members.contains(where: { ["prompt", "request"].contains($0.key) }) {
                do { answer.rows.append(try RowReader.row(from: value, catalogue: catalogue)) } catch {
                    answer.unparseable += 1
                    answer.problems.append("not a row: \(error) in \(excerpt(Array(JSONWriter.compact(value).utf8)[...]))")
                }
                return true
            }
            // A wrapper such as {"rows": [...]} or {"paraphrases": [...]}: read its arrays.
            var found = false
            for member in members { if case .array = member.value { found = interpret(member.value, catalogue: catalogue, into: &answer) || found } }
            return found
        default:
            return false
        }
    }

    /// The end (exclusive) of the bracketed span opening at `start`, and whether it closed before
    /// `limit`. Strings are skipped with their escapes; bracket kinds are not matched against each
    /// other, since only the nesting depth decides where a (possibly broken) span ends.
    private static func matchingClose(_ bytes: [UInt8], from start: Int, limit: Int) -> (end: Int, closed: Bool) {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < limit {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return (index + 1, true) }
                default: break
                }
            }
            index += 1
        }
        return (limit, false)
    }

    private static let promptKey = Array("\"prompt\"".utf8)

    private static func mentionsPrompt(_ span: ArraySlice<UInt8>) -> Bool {
        guard span.count >= promptKey.count else { return false }
        var index = span.startIndex
        while index + promptKey.count <= span.endIndex {
            if span[index..<index + promptKey.count].elementsEqual(promptKey) { return true }
            index += 1
        }
        return false
    }

    /// At most 80 characters of a span, on one line, for problem messages.
    static func excerpt(_ span: ArraySlice<UInt8>) -> String {
        let text = String(decoding: span.prefix(240), as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}
