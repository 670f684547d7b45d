// `toolrouter bench route --sweep` on the real binary against a real daemon: a point per level, the JSON,
// the SVG chart, and a bad level list refused before any request.

import Foundation
import JSON
import Testing
import TestSupport

extension SocketSuites {
    @Suite("bench route --sweep against the real daemon", .serialized)
    struct RouteSweepDaemonTests {
        @Test("a sweep of 1 and 2 clients: a point per level with every request answered, a table or JSON, and an SVG chart")
        func sweep() throws {
            let serve = try ServeChild(name: "sweep")
            defer { serve.child.stop() }
            try serve.waitUntilServing()
            let svg = serve.directory + "/sweep.svg"
            let prompts = TestPaths.packageRoot.appendingPathComponent("examples/prompts/support.jsonl").path
            let bench = try ChildProcess(try TestPaths.toolrouterBinary(),
                                         ["bench", "route", "--socket", serve.agentSocket, "--catalogue", "support", "--prompts", prompts,
                                          "--sweep", "1,2", "--requests", "4", "--warmup", "1", "--svg", svg, "--json"], log: "sweep-bench")
            #expect(bench.wait(timeout: 300) == 0, "\(bench.output.suffix(2000))")
            let line = try #require(bench.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(bench.output.suffix(2000))")
            let result = try JSONParser.parse(String(line))
            let points = try #require(result["sweep"]?.arrayValue)
            #expect(points.map { $0["concurrency"]?.intValue } == [1, 2])
            #expect(points.allSatisfy { $0["requests"]?.intValue == 4 && $0["errors"]?.intValue == 0 }, "\(line)")
            #expect(points.allSatisfy { ($0["throughput_rps"]?.doubleValue ?? 0) > 0 && ($0["client_ms"]?["p50"]?.doubleValue ?? 0) > 0 })
            let chart = try String(contentsOfFile: svg, encoding: .utf8)
            #expect(chart.hasPrefix("<svg") && chart.contains("data-name=\"ToolRouter p99\"") && chart.hasSuffix("</svg>\n"))

            // A bad level list is refused before any request is sent.
            let refused = try ChildProcess(try TestPaths.toolrouterBinary(),
                                           ["bench", "route", "--socket", serve.agentSocket, "--catalogue", "support", "--prompts", prompts,
                                            "--sweep", "1,0"], log: "sweep-refused")
            #expect(refused.wait(timeout: 60) != 0)
            #expect(refused.output.contains("'0' is not a client count"), "\(refused.output.suffix(1000))")
        }
    }
}
