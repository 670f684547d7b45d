// The examples file: what a user writes in ten minutes. JSONL, one row a line:
//
//   {"prompt": "Where is ORD-1234?", "target": {"tool": "track_order", "arguments": {"order_id": "ORD-1234"}}}
//   {"prompt": "Hi there!", "target": {"tool": "no_tool", "reason": "greeting, no action needed"}}
//
// Loading is strict about what would make training data wrong (an error names the file, the line
// and the JSON pointer) and lenient about what only makes it thinner (a warning): a value the
// slot finder cannot locate in its prompt, a tool nobody wrote an example for, too few no_tool rows.

import Foundation
import JSON
import ToolCalls

/// One example row, with its slots.
public struct Example: Sendable {
    /// 1-based line in the examples file.
    public let line: Int
    /// The request text.
    public let prompt: String
    /// The call it should produce (arguments as written in the file).
    public let call: ToolCall
    /// The argument leaves (empty for no_tool).
    let leaves: [ArgumentLeaf]
    /// Where each leaf is stated in the prompt.
    let analysis: SlotAnalysis
}

/// Something that makes the generated data thinner, not wrong.
public enum ExampleWarning: Sendable, Equatable, CustomStringConvertible {
    /// A value not found in its prompt: the row is kept, but that value is never refilled.
    case valueNotFound(file: String, line: Int, pointer: String, value: String)
    /// A catalogue tool without any example: no rows are generated for it.
    case toolWithoutExamples(String)
    /// Fewer no_tool examples than advised.
    case fewNoToolExamples(count: Int, advised: Int)

    /// The warning in words, with file, line and pointer where there is one.
    public var description: String {
        switch self {
        case .valueNotFound(let file, let line, let pointer, let value):
            return "\(file):\(line): /target/arguments\(pointer): value \(value) not found in the prompt; kept as written, not varied"
        case .toolWithoutExamples(let name): return "tool \(name) has no examples; no rows will be generated for it"
        case .fewNoToolExamples(let count, let advised): return "only \(count) no_tool example(s); \(advised) or more are advised"
        }
    }
}

/// The examples of one file, checked against a catalogue.
public struct ExampleSet: Sendable {
    /// The file the examples came from.
    public let path: String
    /// The rows, in file order.
    public let examples: [Example]
    /// What makes the data thinner (not wrong), in file order, then per catalogue tool.
    public let warnings: [ExampleWarning]
    /// no_tool examples advised at least.
    public static let advisedNoToolExamples = 3

    /// The examples for which `isIncluded` holds (e.g. all but a held-out slice), with the warnings
    /// about the lines kept and the file-level warnings unchanged.
    public func filter(_ isIncluded: (Example) -> Bool) -> ExampleSet {
        let kept = examples.filter(isIncluded)
        let lines = Set(kept.map(\.line))
        return ExampleSet(path: path, examples: kept, warnings: warnings.filter { warning in
            if case .valueNotFound(_, let line, _, _) = warning { return lines.contains(line) }
            return true
        })
    }

    /// This set with `rows` added as examples (rows from elsewhere, e.g. a teacher), numbered on from
    /// `firstLine`. Each row must pass `judge` first; one that does not is left out, and so is one
    /// whose prompt is already in the set. Returns the set and how many rows joined it.
    public func adding(_ rows: [(prompt: String, call: ToolCall)], firstLine: Int, catalogue: ToolCatalogue) -> (set: ExampleSet, added: Int) {
        var prompts = Set(examples.map(\.prompt))
        var out = examples
        for (offset, row) in rows.enumerated() where Self.judge(prompt: row.prompt, call: row.call, catalogue: catalogue) == nil {
            // judged by the caller already, as a rule; judged again here so nothing unchecked joins
            guard prompts.insert(row.prompt).inserted, let example = Self.example(line: firstLine + offset, prompt: row.prompt,
                                                                                 call: row.call, catalogue: catalogue) else { continue }
            out.append(example)
        }
        return (ExampleSet(path: path, examples: out, warnings: warnings), out.count - examples.count)
    }

    /// Why a row from elsewhere cannot join the examples, or nil when it can: its call must satisfy the
    /// tool's schema and grounding rule against its prompt (as a file row must), and the slot finder must
    /// place every value that is neither a boolean nor an enum value in the prompt — verbatim or through
    /// a documented conversion (9am → "09:00", Germany → "DE"), the generator's own checks. A file row
    /// with an unplaced value is kept with a warning; a row from a teacher is not worth that risk.
    public static func judge(prompt: String, call: ToolCall, catalogue: ToolCatalogue) -> ExampleRejection? {
        guard !prompt.allSatisfy(\.isWhitespace) else { return ExampleRejection(kind: .empty, detail: "empty prompt") }
        if case .noTool(let reason) = call {
            return reason.allSatisfy(\.isWhitespace) ? ExampleRejection(kind: .empty, detail: "no_tool without a reason") : nil
        }
        if let issue = catalogue.validate(call, origin: .request(prompt)).first {
            return ExampleRejection(kind: issue.schemaPointer.hasSuffix("/x-from-input") ? .notStated : .schema,
                                    detail: "\(call.toolName)\(issue.instancePointer.isEmpty ? "" : " " + issue.instancePointer): \(issue.message)")
        }
        guard let example = Self.example(line: 0, prompt: prompt, call: call, catalogue: catalogue) else {
            return ExampleRejection(kind: .schema, detail: "unknown tool \(call.toolName)")
        }
        if let missing = example.analysis.missing.first {
            let leaf = example.leaves[missing]
            return ExampleRejection(kind: .notStated,
                                    detail: "\(call.toolName) \(leaf.pointer) = \(JSONWriter.compact(leaf.value)) is not stated in the request")
        }
        return nil
    }

    /// An example of `call` (nil for a tool the catalogue does not have).
    static func example(line: Int, prompt: String, call: ToolCall, catalogue: ToolCatalogue) -> Example? {
        guard case .tool(let name, let arguments) = call else {
            return Example(line: line, prompt: prompt, call: call, leaves: [], analysis: SlotAnalysis())
        }
        guard let definition = catalogue.tool(named: name) else { return nil }
        let leaves = ArgumentLeaves.leaves(of: arguments, schema: definition.parameters)
        return Example(line: line, prompt: prompt, call: call, leaves: leaves, analysis: SlotFinder.find(Array(prompt), leaves: leaves))
    }

    /// Reads and checks `path` against `catalogue`.
    public static func load(path: String, catalogue: ToolCatalogue) throws(ExampleFileError) -> ExampleSet {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ExampleFileError(file: path, line: 0, pointer: "", kind: .unreadable(error.localizedDescription))
        }
        return try parse(text, path: path, catalogue: catalogue)
    }

    /// Checks the JSONL `text` (named `path` in messages) against `catalogue`.
    public static func parse(_ text: String, path: String, catalogue: ToolCatalogue) throws(ExampleFileError) -> ExampleSet {
        var examples: [Example] = []
        var warnings: [ExampleWarning] = []
        var firstLine: [String: Int] = [:]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            guard !raw.allSatisfy(\.isWhitespace) else { continue }
            let example = try ExampleRowReader(file: path, line: line, catalogue: catalogue).read(String(raw))
            if let earlier = firstLine[example.prompt] {
                throw ExampleFileError(file: path, line: line, pointer: "/prompt", kind: .duplicatePrompt(firstLine: earlier))
            }
            firstLine[example.prompt] = line
            for index in example.analysis.missing {
                let leaf = example.leaves[index]
                warnings.append(.valueNotFound(file: path, line: line, pointer: leaf.pointer, value: JSONWriter.compact(leaf.value)))
            }
            examples.append(example)
        }
        guard !examples.isEmpty else { throw ExampleFileError(file: path, line: 0, pointer: "", kind: .empty) }
        for name in catalogue.names where !examples.contains(where: { $0.call.toolName == name }) {
            warnings.append(.toolWithoutExamples(name))
        }
        let noTool = examples.filter { $0.call.toolName == ToolCatalogue.noToolName }.count
        if noTool < advisedNoToolExamples { warnings.append(.fewNoToolExamples(count: noTool, advised: advisedNoToolExamples)) }
        return ExampleSet(path: path, examples: examples, warnings: warnings)
    }
}

/// Reads one line of an examples file.
private struct ExampleRowReader {
    let file: String, line: Int, catalogue: ToolCatalogue

    func fail(_ pointer: String, _ kind: ExampleFileError.Kind) -> ExampleFileError {
        ExampleFileError(file: file, line: line, pointer: pointer, kind: kind)
    }

    func read(_ text: String) throws(ExampleFileError) -> Example {
        let row: JSONValue
        do { row = try JSONParser.parse(text) } catch { throw fail("", .invalidJSON(error.description)) }
        let members = try object(row, at: "")
        try keys(members, required: ["prompt", "target"], at: "")
        guard let prompt = row["prompt"]?.stringValue else { throw fail("/prompt", .wrongType(expected: "a string")) }
        guard !prompt.allSatisfy(\.isWhitespace) else { throw fail("/prompt", .emptyPrompt) }
        let target = row["target"] ?? .null
        let targetMembers = try object(target, at: "/target")
        guard let tool = target["tool"]?.stringValue else {
            throw fail("/target/tool", target["tool"] == nil ? .missingKey("tool") : .wrongType(expected: "a string"))
        }
        if tool == ToolCatalogue.noToolName {
            try keys(targetMembers, required: ["tool", "reason"], at: "/target")
            guard let reason = target["reason"]?.stringValue else { throw fail("/target/reason", .wrongType(expected: "a string")) }
            return Example(line: line, prompt: prompt, call: .noTool(reason: reason), leaves: [], analysis: SlotAnalysis())
        }
        try keys(targetMembers, required: ["tool", "arguments"], at: "/target")
        guard let definition = catalogue.tool(named: tool) else { throw fail("/target/tool", .unknownTool(tool)) }
        let arguments = target["arguments"] ?? .null
        _ = try object(arguments, at: "/target/arguments")
        let call = ToolCall.tool(name: tool, arguments: arguments)
        if let issue = catalogue.validate(call, origin: .request(prompt)).first {
            throw fail("/target/arguments" + issue.instancePointer, .invalidArguments(issue.message))
        }
        let leaves = ArgumentLeaves.leaves(of: arguments, schema: definition.parameters)
        return Example(line: line, prompt: prompt, call: call, leaves: leaves, analysis: SlotFinder.find(Array(prompt), leaves: leaves))
    }

    private func object(_ value: JSONValue, at pointer: String) throws(ExampleFileError) -> [(key: String, value: JSONValue)] {
        guard let members = value.objectMembers else { throw fail(pointer, .wrongType(expected: "an object")) }
        return members
    }

    private func keys(_ members: [(key: String, value: JSONValue)], required: [String], at pointer: String) throws(ExampleFileError) {
        for key in required where !members.contains(where: { $0.key == key }) { throw fail(pointer, .missingKey(key)) }
        if let extra = members.first(where: { !required.contains($0.key) }) { throw fail(pointer + ArgumentLeaf.pointer([.key(extra.key)], wildcardIndexes: false), .unexpectedKey(extra.key)) }
    }
}

/// Why a row from elsewhere cannot join the examples (`ExampleSet.judge`).
public struct ExampleRejection: Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem.
    public enum Kind: Sendable, Equatable {
        /// The call breaks its tool's schema, or names no catalogue tool.
        case schema
        /// A value is not in the request: not a span of it (grounded), or not placed by the slot finder.
        case notStated
        /// An empty prompt or a no_tool row without a reason.
        case empty
    }
    /// The kind.
    public let kind: Kind
    /// What exactly: the tool, the argument's pointer, the value.
    public let detail: String
    public var description: String { detail }
}

/// Why an examples file cannot be used: the file, the 1-based line (0: the whole file), the JSON
/// pointer within the line's row, and what is wrong.
public struct ExampleFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Equatable {
        /// The file cannot be read (the system's reason).
        case unreadable(String)
        /// The file has no rows.
        case empty
        /// A line is not JSON (the parser's message).
        case invalidJSON(String)
        /// A value of the wrong kind at the pointer.
        case wrongType(expected: String)
        /// A required key is absent from the object at the pointer.
        case missingKey(String)
        /// A key the format does not have.
        case unexpectedKey(String)
        /// The prompt is empty or only spaces.
        case emptyPrompt
        /// The target names a tool the catalogue lacks.
        case unknownTool(String)
        /// The arguments fail the tool's schema (the daemon's validator's message).
        case invalidArguments(String)
        /// The same prompt as an earlier line.
        case duplicatePrompt(firstLine: Int)
    }
    /// The examples file.
    public let file: String
    /// 1-based line; 0 for the whole file.
    public let line: Int
    /// JSON pointer within the line's row ("/target/arguments/days"; "" for the whole row).
    public let pointer: String
    /// What is wrong.
    public let kind: Kind

    /// `file:line: pointer: problem`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line): \(pointer.isEmpty ? "/" : pointer): " : "\(file): "
        switch kind {
        case .unreadable(let why): return place + "cannot read the file: \(why)"
        case .empty: return place + "no examples (the file has no rows)"
        case .invalidJSON(let why): return place + "not valid JSON: \(why)"
        case .wrongType(let expected): return place + "expected \(expected)"
        case .missingKey(let key): return place + "missing \"\(key)\""
        case .unexpectedKey(let key): return place + "unexpected key \"\(key)\" (a row is {\"prompt\", \"target\"})"
        case .emptyPrompt: return place + "the prompt is empty"
        case .unknownTool(let name): return place + "unknown tool \"\(name)\" (not in the catalogue)"
        case .invalidArguments(let why): return place + "arguments fail the tool's schema: \(why)"
        case .duplicatePrompt(let first): return place + "the same prompt as line \(first)"
        }
    }
}
