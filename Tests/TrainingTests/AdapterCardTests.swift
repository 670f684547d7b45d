// The card and train_info.json say what the run did.

import JSON
import Testing
import ToolCalls
@testable import Training

@Suite("Adapter card")
struct AdapterCardTests {
    static func summary() throws -> TrainingSummary {
        var s = TrainingSummary(
            cataloguePath: "home.tools.json", tools: ["lights", "lock"], examplesPath: "home.examples.jsonl",
            rowsPerTool: ["lights": 50, "lock": 30, "no_tool": 20], dataHash: String(repeating: "ab", count: 32),
            generatorReport: try JSONParser.parse(#"{"seed":7,"no_tool_by_source":{"examples":5,"cut":10,"pool":5},"optional_presence":[{"tool":"lights","property":"color","present":25,"rows":50}],"slots":[{"line":1,"tool":"lights","found":2,"implied":1,"not_found":[]},{"line":3,"tool":"lock","found":0,"implied":1,"not_found":["/door"]}],"duplicates_skipped":4,"shortfall":0,"pool_lines_kept":300,"dropped":{}}"#), seed: 7, decisionWeight: 5,
            trainerStart: try JSONParser.parse(#"{"r":8,"alpha":16,"dropout":0.05,"targets":["q_proj","v_proj"],"lr":0.0005,"warmup_steps":8,"epochs":2,"batch":16,"steps":13,"shared_prefix_tokens":142,"bf16_autocast":true,"torch":"2.15.0","threads":2}"#),
            trainerDone: try JSONParser.parse(#"{"first_step_loss":1.6,"final_loss_last_epoch_mean":0.02,"train_seconds":300}"#),
            checkpoints: 2, finished: true, modelFile: "m.gguf", initAdapter: nil, wallSeconds: 420, machine: "Test CPU, 2 logical cores")
        let gold = GoldRow(prompt: "x", tool: "lock", arguments: try JSONParser.parse(#"{"on":true}"#))
        let none = GoldRow(prompt: "y", tool: "no_tool", arguments: nil)
        let outcomes = [EvalOutcome(gold: gold, call: .tool(name: "lock", arguments: try JSONParser.parse(#"{"on":true}"#)), milliseconds: 1),
                        EvalOutcome(gold: none, call: .tool(name: "lock", arguments: try JSONParser.parse(#"{"on":true}"#)), milliseconds: 1)]
        s.evaluations = [("held-out slice", "home.examples.jsonl", EvalReport(outcomes))]
        s.teacher = try JSONParser.parse(#"{"url":"http://t/v1","model":"big","asked_rows":40,"joined":12,"counts":{"kept":13,"received":30,"rejected":{"duplicate":5}}}"#)
        return s
    }

    @Test("the README has the data counts, hyper-parameters, times, machine and the four numbers")
    func readme() throws {
        let text = AdapterCard.readme(try Self.summary(), adapterName: "home")
        for fragment in [
            "# LoRA adapter: `home`",
            "| training rows | 100 (20% no_tool): lights 50, lock 30, no_tool 20 |",
            "| no_tool rows by source | examples 5, cut 10, pool 5 |",
            "| optional arguments stated | lights.color 50% |",
            "| slots in the examples | 2 examples: 2 values found in their prompts (refilled), 2 implied by the wording (kept), not found: line 3 /door |",
            "| generation | 4 duplicate prompts skipped, 0 rows short; 300 generic no_tool lines fit the catalogue |",
            "| teacher | `big` at `http://t/v1`: 12 rows joined the examples (kept 13 of 30 received; rejected {\"duplicate\":5}) |",
            "| seed | 7 |",
            "| data SHA-256 | `abab",
            "| LoRA | r=8, alpha=16, dropout 0.05, targets q_proj, v_proj |",
            "5× |",
            "| loss | first step 1.6, last epoch mean 0.02 |",
            "| wall time | 7m00s",
            "| machine | Test CPU, 2 logical cores |",
            "| held-out slice: `home.examples.jsonl` (2) | 100.0% | 50.0% | 100.0% (of 1) | 50.0% (1 of 1 no_tool rows) | 50.0% |",
        ] {
            #expect(text.contains(fragment), "missing: \(fragment)\n\(text)")
        }
        #expect(!text.contains("did not finish"))
        var unfinished = try Self.summary()
        unfinished.finished = false
        #expect(AdapterCard.readme(unfinished, adapterName: "home").contains("this is the checkpoint of epoch 2"))
    }

    @Test("train_info.json carries the same facts and round-trips as JSON")
    func trainInfo() throws {
        var summary = try Self.summary()
        summary.extraInfo = [("catalogue", .object([("sha256", .string("00"))]))]
        let text = AdapterCard.indented(AdapterCard.trainInfo(summary))
        let info = try JSONParser.parse(text)
        #expect(info["seed"]?.intValue == 7 && info["rows"]?.intValue == 100)
        #expect(info["rows_per_tool"]?["no_tool"]?.intValue == 20)
        #expect(info["generator"]?["duplicates_skipped"]?.intValue == 4)
        #expect(info["teacher"]?["joined"]?.intValue == 12)
        #expect(info["trainer"]?["r"]?.intValue == 8 && info["result"]?["train_seconds"]?.intValue == 300)
        #expect(info["evaluations"]?.arrayValue?.first?["report"]?["false_tool_calls_over_all_rows"]?.doubleValue == 0.5)
        #expect(info["catalogue"]?["sha256"]?.stringValue == "00")
        #expect(text.contains("\n \"seed\": 7,\n"))
    }
}
