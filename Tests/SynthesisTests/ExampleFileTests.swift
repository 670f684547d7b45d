// Examples-file errors (each kind, with its line and JSON pointer) and warnings.

import Foundation
import JSON
import Testing
import ToolCalls
@testable import Synthesis

@Suite struct ExampleFileTests {
    let catalogue: ToolCatalogue
    init() throws { catalogue = try Library.catalogue() }

    let good = #"{"prompt": "Do you have Dune?", "target": {"tool": "find_book", "arguments": {"title": "Dune"}}}"#

    func error(_ text: String) -> ExampleFileError? {
        do { _ = try ExampleSet.parse(text, path: "e.jsonl", catalogue: catalogue); return nil } catch { return error }
    }

    @Test func eachErrorNamesLineAndPointer() {
        let cases: [(String, Int, String, ExampleFileError.Kind)] = [
            (good + "\n{\"prompt\": ", 2, "", .invalidJSON("")),
            (#"{"prompt": "x"}"#, 1, "", .missingKey("target")),
            (#"{"prompt": "x", "target": {"tool": "no_tool", "reason": "r"}, "note": 1}"#, 1, "/note", .unexpectedKey("note")),
            (#"{"prompt": 3, "target": {"tool": "no_tool", "reason": "r"}}"#, 1, "/prompt", .wrongType(expected: "a string")),
            (good + "\n\n" + #"{"prompt": "y", "target": {"tool": "lend_book", "arguments": {}}}"#, 3, "/target/tool", .unknownTool("lend_book")),
            (#"{"prompt": "y", "target": {"tool": "borrow_book", "arguments": {"book_id": "BK-1", "days": 3}}}"#, 1,
             "/target/arguments/book_id", .invalidArguments("")),
            (#"{"prompt": "y", "target": {"tool": "find_book", "arguments": {"title": "Dune"}, "reason": "r"}}"#, 1, "/target/reason", .unexpectedKey("reason")),
            (good + "\n" + good, 2, "/prompt", .duplicatePrompt(firstLine: 1)),
            ("\n  \n", 0, "", .empty),
        ]
        for (text, line, pointer, kind) in cases {
            let failure = error(text)
            #expect(failure?.line == line, "\(text)")
            #expect(failure?.pointer == pointer, "\(text)")
            switch (failure?.kind, kind) {
            case (.invalidJSON?, .invalidJSON), (.invalidArguments?, .invalidArguments): break
            default: #expect(failure?.kind == kind, "\(text)")
            }
            #expect(failure?.description.hasPrefix("e.jsonl") ?? false)
        }
    }

    @Test func schemaFailureUsesTheDaemonsValidatorMessage() {
        let failure = error(#"{"prompt": "y", "target": {"tool": "borrow_book", "arguments": {"book_id": "BK-100", "days": 90}}}"#)
        #expect(failure?.pointer == "/target/arguments/days")
        #expect(failure?.description.contains("greater than the maximum 60") ?? false)
    }

    @Test func unreadableFile() {
        do {
            _ = try ExampleSet.load(path: "/nonexistent/e.jsonl", catalogue: catalogue)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 0)
            if case .unreadable = error.kind {} else { Issue.record("wrong kind \(error.kind)") }
        }
    }

    @Test func warningsForThinExamples() throws {
        let set = try ExampleSet.parse(good, path: "w.jsonl", catalogue: catalogue)
        #expect(set.warnings.contains(.toolWithoutExamples("borrow_book")))
        #expect(set.warnings.contains(.fewNoToolExamples(count: 0, advised: ExampleSet.advisedNoToolExamples)))
        #expect(!set.warnings.contains(.toolWithoutExamples("find_book")))
        let full = try Library.examples(catalogue)
        #expect(full.warnings.isEmpty, "\(full.warnings)")
    }
}
