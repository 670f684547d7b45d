// The whole loop with real processes: `toolrouter serve` on the real model, handler processes
// (`toolrouter demo-handlers` in Swift, examples/handler.py in Python) on the handler socket, and an
// agent on the agent socket. Every demo tool is called once through the model, the grammar, the
// validator and a handler; failures (slow handler, dying handler, bad input) get their documented
// error codes, and the daemon answers `health` after each.

import Foundation
import JSON
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// `toolrouter serve` on temporary sockets with both demo catalogues.
private final class ServeProcess {
    let agentSocket: String
    let handlerSocket: String
    let child: ChildProcess

    init(extra: [String] = []) throws {
        let dir = NSTemporaryDirectory() + "toolrouter-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        agentSocket = dir + "/agent.sock"
        handlerSocket = dir + "/handlers.sock"
        let examples = TestPaths.packageRoot.appendingPathComponent("examples/catalogues").path
        child = try ChildProcess(try TestPaths.toolrouterBinary(), [
            "serve", "--model", try TestPaths.requireModel(),
            "--catalogue", "support=\(examples)/support.tools.json", "--catalogue", "devops=\(examples)/devops.tools.json",
            "--agent-socket", agentSocket, "--handler-socket", handlerSocket, "--socket-mode", "0600",
        ] + extra, log: "serve")
    }

    /// A client connected once the daemon listens (it loads the model first).
    func connect() throws -> AgentClient {
        for _ in 0..<300 {
            if let client = try? AgentClient(path: agentSocket) { return client }
            guard child.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ClientError.io("the daemon did not start listening: \(child.output)")
    }
}

/// Sends one request and parses the answer.
private func send(_ client: AgentClient, _ method: String, _ params: JSONValue? = nil, id: Int = 1) throws -> JSONValue {
    var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(id))), ("method", .string(method))]
    if let params { members.append(("params", params)) }
    return try JSONParser.parse(try client.request(JSONWriter.compact(.object(members)), timeout: 120))
}

/// The daemon is alive and answers `health`.
private func expectHealthy(_ client: AgentClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let health = try send(client, "health", id: 99)
    #expect(health["result"]?["status"]?.stringValue == "ok", sourceLocation: sourceLocation)
}

/// Waits until `health` lists exactly `count` online tools in `catalogue`.
private func waitForTools(_ client: AgentClient, catalogue: String, count: Int) throws {
    for _ in 0..<200 {
        if (try send(client, "health")["result"]?["handlers"]?[catalogue]?.objectMembers?.count ?? 0) == count { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    Issue.record("handlers for \(catalogue) did not come online")
}

/// One request per demo tool, phrased for that tool.
private let toolRequests: [(catalogue: String, tool: String, input: String)] = [
    ("support", "track_order", "Where is my order ORD-55821?"),
    ("support", "request_refund", "Please refund order ORD-1234, the kettle arrived broken."),
    ("support", "update_address", "Ship order ORD-77340012 to 12 Rue de la Paix, 75002 Paris, FR instead."),
    ("support", "escalate", "This is my third complaint this week, get me a manager now."),
    ("devops", "get_service_status", "Is payments-api up right now?"),
    ("devops", "restart_service", "Restart the checkout service, skip draining."),
    ("devops", "scale_deployment", "Scale web-frontend to 12 replicas."),
    ("devops", "query_logs", "Show me error logs from auth-service in the last 30 minutes."),
    ("devops", "page_oncall", "Page the database on-call, replication is broken."),
    ("devops", "create_ticket", "Open a ticket: the staging disk is 95% full."),
]

private func catalogue(_ name: String) throws -> ToolCatalogue {
    try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/\(name).tools.json").path)
}

extension SocketSuites {
    @Suite("End to end: toolrouter serve with real handler processes", .serialized)
    struct EndToEndTests {
        @Test("every demo tool: decided by the model, validated, dispatched to a demo handler process, result returned")
        func everyDemoTool() throws {
            let daemon = try ServeProcess()
            let client = try daemon.connect()
            let handlers = try ChildProcess(try TestPaths.toolrouterBinary(), ["demo-handlers", "--handler-socket", daemon.handlerSocket], log: "handlers")
            defer { handlers.stop() }
            try waitForTools(client, catalogue: "support", count: 4)
            try waitForTools(client, catalogue: "devops", count: 6)
            let catalogues = ["support": try catalogue("support"), "devops": try catalogue("devops")]
            #expect(Set(toolRequests.map(\.tool)) == Set(catalogues.values.flatMap { $0.tools.map(\.name) }), "one request per demo tool")

            for (index, request) in toolRequests.enumerated() {
                let reply = try send(client, "call", .object([("catalogue", .string(request.catalogue)), ("input", .string(request.input)),
                                                              ("tool_choice", .string(request.tool))]), id: index + 1)
                #expect(reply["id"]?.intValue == index + 1)
                guard let result = reply["result"] else { Issue.record("\(request.tool): \(JSONWriter.compact(reply))"); continue }
                let call = try #require(result["call"])
                #expect(call["tool"]?.stringValue == request.tool)
                // What was dispatched is what was validated: the handler echoes the arguments it received.
                #expect(result["result"]?["tool"]?.stringValue == request.tool)
                #expect(result["result"]?["arguments"] == call["arguments"])
                let parsed = try ToolCall(json: call, catalogue: try #require(catalogues[request.catalogue]))
                #expect(catalogues[request.catalogue]?.validate(parsed, origin: .request(request.input)).isEmpty == true, "\(JSONWriter.compact(call))")
                let timings = try #require(result["timings"])
                #expect((timings["dispatch_ms"]?.doubleValue ?? 0) > 0)
                #expect((timings["generated_tokens"]?.intValue ?? 0) > 0)
                #expect((timings["cached_tokens"]?.intValue ?? 0) > 100)
                try expectHealthy(client)
            }

            // no_tool: a greeting dispatches nothing and says why.
            let greeting = try send(client, "call", .object([("catalogue", .string("support")), ("input", .string("Hi! Thanks, that is all for today."))]))
            #expect(greeting["result"]?["call"]?["tool"]?.stringValue == "no_tool")
            #expect(greeting["result"]?["result"] == .null)
            #expect(greeting["result"]?["reason"]?.stringValue != nil)
            try expectHealthy(client)

            // The same through the command-line client.
            let cli = try ChildProcess(try TestPaths.toolrouterBinary(), ["call", "--socket", daemon.agentSocket, "--catalogue", "devops",
                                                                      "--tool-choice", "scale_deployment", "Scale web-frontend to 12 replicas."], log: "cli")
            #expect(cli.wait(timeout: 120) == 0)
            #expect(try JSONParser.parse(cli.output.trimmingCharacters(in: .whitespacesAndNewlines))["result"]?["result"]?["scaled"] == .bool(true))

            // Metrics count what happened, in the Prometheus text format, from `toolrouter metrics`.
            let metricsCLI = try ChildProcess(try TestPaths.toolrouterBinary(), ["metrics", "--socket", daemon.agentSocket], log: "metrics")
            _ = metricsCLI.wait(timeout: 30)
            let metrics = metricsCLI.output
            #expect(metrics.contains(#"toolrouter_requests_total{operation="call",protocol="jsonrpc",catalogue="support",tool="track_order",outcome="ok"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"toolrouter_handler_calls_total{catalogue="devops",tool="scale_deployment",outcome="ok"} 2"#))
            #expect(metrics.contains(#"toolrouter_requests_total{operation="call",protocol="jsonrpc",catalogue="support",tool="no_tool",outcome="ok"} 1"#))
            #expect(metrics.contains("toolrouter_prefix_cache_hits_total 12"))
            #expect(metrics.contains(#"toolrouter_phase_seconds_count{phase="decode",catalogue="devops"} 7"#))
            #expect(metrics.contains("toolrouter_queue_depth 0"))
            metricsCLI.stop()

            client.disconnect()
            #expect(daemon.child.stop() == 0, "serve exits cleanly on SIGTERM")
        }

        @Test("with the committed adapters (adapters/), the model alone picks the right tool for each demo request and no_tool for small talk")
        func adaptersRoute() throws {
            let adapters = TestPaths.packageRoot.appendingPathComponent("adapters").path
            let daemon = try ServeProcess(extra: ["--adapter", "support=\(adapters)/support", "--adapter", "devops=\(adapters)/devops"])
            let client = try daemon.connect()
            // toolRequests, except that a page must name a team of the enum and a severity (the page request
            // above names neither, so the right answer to it without tool_choice is no_tool).
            typealias Request = (catalogue: String, tool: String, input: String)
            let page: Request = ("devops", "page_oncall", "Page the data on-call, sev2: replication is broken.")
            let requests: [Request] = toolRequests.map { $0.tool == "page_oncall" ? page : $0 }
                + [("support", "no_tool", "Hi! Thanks, that is all for today."),
                   ("devops", "no_tool", "Good morning everyone, coffee is in the kitchen."),
                   ("devops", "no_tool", toolRequests[8].input)]
            var routed: [String] = []
            for (index, request) in requests.enumerated() {
                let reply = try send(client, "route", .object([("catalogue", .string(request.catalogue)), ("input", .string(request.input))]),
                                     id: index + 1)
                let call = try #require(reply["result"]?["call"], "\(request.input): \(JSONWriter.compact(reply))")
                routed.append(call["tool"]?.stringValue ?? "?")
                #expect(call["tool"]?.stringValue == request.tool, "\(request.input) → \(JSONWriter.compact(call))")
            }
            print("adapters route the demo requests to: \(routed)")
            // Arguments are copied from the request, not invented.
            let track = try send(client, "route", .object([("catalogue", .string("support")), ("input", .string(toolRequests[0].input))]))
            #expect(track["result"]?["call"]?["arguments"]?["order_id"]?.stringValue == "ORD-55821")
            let scale = try send(client, "route", .object([("catalogue", .string("devops")), ("input", .string(toolRequests[6].input))]))
            let scaled = scale["result"]?["call"]?["arguments"]
            #expect(scaled?["name"]?.stringValue == "web-frontend" && scaled?["replicas"]?.intValue == 12, "\(scaled.map(JSONWriter.compact) ?? "nil")")
            client.disconnect()
            #expect(daemon.child.stop() == 0)
        }

        @Test("bad input, a slow handler and a dying handler get their error codes; the daemon keeps serving")
        func failures() throws {
            let daemon = try ServeProcess(extra: ["--handler-timeout-ms", "700", "--max-message-bytes", "4096"])
            let client = try daemon.connect()
            let handlerScript = TestPaths.packageRoot.appendingPathComponent("examples/handler.py").path
            let refund = JSONValue.object([("catalogue", .string("support")), ("input", .string("Refund ORD-1234, it broke.")),
                                           ("tool_choice", .string("request_refund"))])

            // Not JSON, too long, unknown method, unknown tool choice.
            try client.send(line: "{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": ")
            #expect(try JSONParser.parse(try client.readLine())["error"]?["code"]?.intValue == RPCErrorCode.parseError.rawValue)
            try expectHealthy(client)
            try client.send(line: String(repeating: "x", count: 10_000))
            #expect(try JSONParser.parse(try client.readLine())["error"]?["code"]?.intValue == RPCErrorCode.messageTooLarge.rawValue)
            try expectHealthy(client)
            #expect(try send(client, "launch_rockets")["error"]?["code"]?.intValue == RPCErrorCode.methodNotFound.rawValue)
            try expectHealthy(client)
            let unknownTool = try send(client, "route", .object([("input", .string("hi")), ("catalogue", .string("support")),
                                                                  ("tool_choice", .string("launch_rockets"))]))
            #expect(unknownTool["error"]?["code"]?.intValue == RPCErrorCode.invalidParams.rawValue)
            try expectHealthy(client)

            // No handler registered yet.
            #expect(try send(client, "call", refund)["error"]?["code"]?.intValue == RPCErrorCode.noHandler.rawValue)
            try expectHealthy(client)

            // A handler that answers after 3 s: the call times out at 700 ms, carrying the call.
            let slow = try ChildProcess("/usr/bin/env", ["python3", handlerScript, "--socket", daemon.handlerSocket, "--catalogue", "support",
                                                   "--tools", "request_refund", "--delay", "3"], log: "slow")
            try waitForTools(client, catalogue: "support", count: 1)
            let timedOut = try send(client, "call", refund)
            #expect(timedOut["error"]?["code"]?.intValue == RPCErrorCode.handlerTimedOut.rawValue)
            #expect(timedOut["error"]?["data"]?["call"]?["tool"]?.stringValue == "request_refund")
            try expectHealthy(client)
            slow.stop()

            // A handler that exits in the middle of its first call: the call fails at once, and the tool goes offline.
            try waitForTools(client, catalogue: "support", count: 0)
            let dying = try ChildProcess("/usr/bin/env", ["python3", handlerScript, "--socket", daemon.handlerSocket, "--catalogue", "support",
                                                    "--tools", "request_refund", "--die-after", "1"], log: "dying")
            defer { dying.stop() }
            try waitForTools(client, catalogue: "support", count: 1)
            let started = Date()
            let died = try send(client, "call", refund)
            #expect(died["error"]?["code"]?.intValue == RPCErrorCode.handlerFailed.rawValue)
            #expect(Date().timeIntervalSince(started) < 0.7 + 5, "fails when the handler dies, not at a timeout")
            try expectHealthy(client)
            #expect(try send(client, "call", refund)["error"]?["code"]?.intValue == RPCErrorCode.noHandler.rawValue)

            // A client that disconnects with a request in flight leaves the daemon serving the others.
            let leaving = try daemon.connect()
            try leaving.send(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"route\",\"params\":{\"catalogue\":\"devops\",\"input\":\"Restart checkout\"}}")
            leaving.disconnect()
            try expectHealthy(client)
            #expect(try send(client, "route", .object([("catalogue", .string("devops")), ("input", .string("Restart checkout"))]))["result"] != nil)

            let stats = try send(client, "stats", .object([("format", .string("prometheus"))]))
            let text = stats["result"]?["text"]?.stringValue ?? ""
            #expect(text.contains(#"toolrouter_handler_calls_total{catalogue="support",tool="request_refund",outcome="timed_out"} 1"#), "\(text)")
            #expect(text.contains(#"toolrouter_handler_calls_total{catalogue="support",tool="request_refund",outcome="failed"} 1"#))
            #expect(text.contains(#"toolrouter_handler_calls_total{catalogue="support",tool="request_refund",outcome="no_handler"} 2"#))
            #expect(text.contains(#"toolrouter_requests_total{operation="route",protocol="jsonrpc",catalogue="support",tool="-",outcome="invalid_params"} 1"#))

            client.disconnect()
            #expect(daemon.child.stop() == 0)
        }
    }
}
