// Distillation for `toolrouter train --teacher`: the teacher's kept rows join the user's examples, so
// the generator varies them like any example (new frames, new carriers), and the card counts them.
//
// The judge is the generator's own (`ExampleSet.judge`): schema and grounding against the row's
// request, and every value placed in the request by the slot finder — verbatim or through a
// documented conversion. That accepts "at 9am" → "09:00", which the default checks (`RowChecks`,
// verbatim strings only) refuse, and refuses a value the generator could not refill anyway.

import Synthesis
import ToolCalls

extension TeacherSession {
    /// Line numbers of teacher rows in the extended set (after any examples file's own lines).
    public static let firstTeacherLine = 1_000_001

    /// Asks the teacher for about `count` rows like `set`'s examples and adds the kept ones to the set.
    public func extend(_ set: ExampleSet, catalogue: ToolCatalogue, count: Int, seed: UInt64)
        async throws(TeacherError) -> (set: ExampleSet, result: TeacherResult, added: Int) {
        let rows = set.examples.map { TeacherRow(prompt: $0.prompt, call: $0.call) }
        let result = try await distill(catalogue: catalogue, examples: rows, count: count, seed: seed) { row in
            guard let rejection = ExampleSet.judge(prompt: row.prompt, call: row.call, catalogue: catalogue) else { return .keep }
            switch rejection.kind {
            case .schema: return .reject(reason: RejectReason.schema, detail: rejection.detail)
            case .notStated: return .reject(reason: RejectReason.notInRequest, detail: rejection.detail)
            case .empty: return .reject(reason: RejectReason.emptyReason, detail: rejection.detail)
            }
        }
        let extended = set.adding(result.kept.map { ($0.prompt, $0.call) }, firstLine: Self.firstTeacherLine, catalogue: catalogue)
        return (extended.set, result, extended.added)
    }
}
