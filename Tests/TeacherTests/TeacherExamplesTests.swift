// train --teacher's data path: the teacher's rows judged by the generator's own checks and added to the
// examples (a scripted teacher; the real server is in TeacherServerTests).

import Testing
import JSON
import Synthesis
import Teacher
import ToolCalls

@Suite struct TeacherExamplesTests {
    static let catalogue = Fixture.parse("""
            [{"type": "function", "function": {"name": "schedule", "description": "Schedule a clean.", "parameters": {
               "type": "object",
               "properties": {
                 "start_time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                 "room": {"type": "string", "x-from-input": true}},
               "required": ["start_time"], "additionalProperties": false}}}]
            """)

    static let examplesFile = """
        {"prompt": "clean the hall at 14:15", "target": {"tool": "schedule", "arguments": {"start_time": "14:15", "room": "hall"}}}
        {"prompt": "vacuum at 18:30", "target": {"tool": "schedule", "arguments": {"start_time": "18:30"}}}
        {"prompt": "hello", "target": {"tool": "no_tool", "reason": "small talk"}}
        """

    /// Four rows: a clock conversion (kept, though a verbatim-only check refuses it), an invented room
    /// (not in the request), a time that is not stated at all, and a no_tool row.
    static let answer = """
        {"prompt": "run the vacuum in the study at 9am", "target": {"tool": "schedule", "arguments": {"start_time": "09:00", "room": "study"}}}
        {"prompt": "run the vacuum at noon", "target": {"tool": "schedule", "arguments": {"start_time": "12:00", "room": "kitchen"}}}
        {"prompt": "run the vacuum in the den later", "target": {"tool": "schedule", "arguments": {"start_time": "20:00", "room": "den"}}}
        {"prompt": "what's the time?", "target": {"tool": "no_tool", "reason": "a question"}}
        """

    @Test func keptRowsJoinTheExamplesJudgedByTheGenerator() async throws {
        let set = try ExampleSet.parse(Self.examplesFile, path: "e.jsonl", catalogue: Self.catalogue)
        var options = TeacherOptions()
        options.maxRequests = 1
        let client = ChatClient(endpoint: TeacherEndpoint(baseURL: "http://127.0.0.1:9/v1", model: "t"),
                                transport: ScriptedTransport([ScriptedTransport.completion(Self.answer)]), responseFormat: .none, sleep: { _ in })
        let (extended, result, added) = try await TeacherSession(client: client, options: options)
            .extend(set, catalogue: Self.catalogue, count: 10, seed: 1)

        #expect(result.kept.map(\.prompt) == ["run the vacuum in the study at 9am", "what's the time?"])
        #expect(result.rejected == [RejectReason.notInRequest: 2])
        let details = result.candidates.compactMap { candidate -> String? in
            if case .reject(_, let detail) = candidate.verdict { return detail } else { return nil }
        }
        #expect(details == ["schedule /room: \"kitchen\" not found in the request", "schedule /start_time = \"20:00\" is not stated in the request"])
        // The verbatim-only default would have refused the converted time: the generator's judge is the point.
        #expect(RowChecks.verdict(result.kept[0], catalogue: Self.catalogue) != .keep)

        #expect(added == 2 && extended.examples.count == set.examples.count + 2)
        let joined = extended.examples.suffix(2)
        #expect(joined.map(\.line) == [TeacherSession.firstTeacherLine, TeacherSession.firstTeacherLine + 1])
        for example in joined { #expect(ExampleSet.judge(prompt: example.prompt, call: example.call, catalogue: Self.catalogue) == nil) }

        // The generator uses the teacher's frame: "9am"-style times appear only through it.
        let rows = Synthesizer(catalogue: Self.catalogue, examples: extended, options: SynthesisOptions(rows: 300, seed: 2)).run().rows
        #expect(rows.contains { $0.prompt.contains("run the vacuum") && ($0.prompt.contains("am") || $0.prompt.contains("pm")) })
        #expect(!Synthesizer(catalogue: Self.catalogue, examples: set, options: SynthesisOptions(rows: 300, seed: 2)).run().rows
            .contains { $0.prompt.contains("run the vacuum") })
    }

    @Test func addingSkipsRowsThatFailOrRepeat() throws {
        let set = try ExampleSet.parse(Self.examplesFile, path: "e.jsonl", catalogue: Self.catalogue)
        let rows: [(prompt: String, call: ToolCall)] = [
            ("vacuum at 18:30", .tool(name: "schedule", arguments: .object([("start_time", .string("18:30"))]))),   // repeats line 2
            ("vacuum at 7pm", .tool(name: "schedule", arguments: .object([("start_time", .string("08:00"))]))),    // wrong conversion
            ("vacuum at 7pm", .tool(name: "schedule", arguments: .object([("start_time", .string("19:00"))]))),
            ("  ", .noTool(reason: "blank")),
        ]
        let (extended, added) = set.adding(rows, firstLine: 500, catalogue: Self.catalogue)
        #expect(added == 1)
        #expect(extended.examples.last?.prompt == "vacuum at 7pm" && extended.examples.last?.line == 502)
        #expect(ExampleSet.judge(prompt: "  ", call: .noTool(reason: "blank"), catalogue: Self.catalogue)?.kind == .empty)
        #expect(ExampleSet.judge(prompt: "vacuum at 7pm", call: rows[1].call, catalogue: Self.catalogue)?.kind == .notStated)
        #expect(ExampleSet.judge(prompt: "x", call: .tool(name: "schedule", arguments: .object([])), catalogue: Self.catalogue)?.kind == .schema)
    }
}
