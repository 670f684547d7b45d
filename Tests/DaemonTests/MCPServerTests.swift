// MCP tool servers under the daemon, for real: `toolrouter serve` runs examples/mcp_server.py (written with
// the official `mcp` Python SDK, from scripts/setup's .clients venv) over stdio. Its tools appear as a
// catalogue, `call` reaches them and returns their result, a tool's error is a tool error, killing the server
// mid-call gives a specific error and it is restarted, and `notifications/tools/list_changed` rebuilds the
// catalogue. Synchronisation is on what the daemon says (its answers, its health, its log), never on sleeps.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// The child's log once it contains `text` (120 s at most).
private func logContaining(_ child: ChildProcess, _ text: String) -> String {
    var log = child.output
    let deadline = Date().addingTimeInterval(120)
    while !log.contains(text) && child.isRunning && Date() < deadline {
        usleep(20_000)   // polling the log file, not synchronising on it
        log = child.output
    }
    return log
}

extension SocketSuites {
    @Suite("MCP servers as handlers")
    struct MCPServerTests {
        /// `call` forcing `tool` of the notes catalogue.
        static func forced(_ tool: String, _ input: String) -> JSONValue {
            .object([("catalogue", .string("notes")), ("input", .string(input)), ("tool_choice", .string(tool))])
        }

        @Test("an MCP server's tools are a catalogue; calls reach them; errors, a killed server and list_changed are handled")
        func notesServer() throws {
            let python = try clientsPython()
            let directory = ServeChild.freshDirectory()
            let server = TestPaths.packageRoot.appendingPathComponent("examples/mcp_server.py").path
            let config: JSONValue = .object([("mcp_servers", .array([.object([
                ("name", .string("notes")), ("command", .string(python)), ("args", .array([.string(server)])),
                ("env", .object([("PYTHONUNBUFFERED", .string("1"))])),
            ])]))])
            try JSONWriter.compact(config).write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
            let daemon = try ServeChild(["--config", directory + "/config.json"], directory: directory, name: "serve-mcp")
            defer { _ = daemon.child.stop() }
            try daemon.waitUntilServing()
            let client = try daemon.connect()

            // The catalogue, listed before the daemon was ready.
            let listed = try rpc(client, "tools/list", .object([("catalogue", .string("notes"))]))
            let names = listed["result"]?["notes"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names == ["add_note", "list_notes", "convert_temperature", "hold", "broken", "enable_archive"], "\(JSONWriter.compact(listed))")
            let health = try rpc(client, "health")["result"]?["mcp_servers"]?["notes"]
            #expect(health?["state"]?.stringValue == "running" && health?["tools"]?.intValue == 6, "\(health.map(JSONWriter.compact) ?? "-")")
            let firstPID = try #require(health?["pid"]?.intValue)
            let handlers = try rpc(client, "health")["result"]?["handlers"]?["notes"]
            #expect(handlers?["add_note"]?.intValue == 1, "a running server is each of its tools' handler: \(handlers.map(JSONWriter.compact) ?? "-")")

            // A call reaches the tool; its result comes back (content and structured content).
            let added = try rpc(client, "call", Self.forced("add_note", "Add a note: buy oat milk"))
            let text = added["result"]?["call"]?["arguments"]?["text"]?.stringValue
            #expect(text != nil, "\(JSONWriter.compact(added))")
            let saved = added["result"]?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(saved.contains("\"saved\"") && text.map { saved.contains($0) } == true, "\(JSONWriter.compact(added))")

            // A tool that reports an error is a tool error, with its result as the data.
            let broken = try rpc(client, "call", Self.forced("broken", "Break it because the test says so."))
            #expect(broken["error"]?["code"]?.intValue == RPCErrorCode.toolError.rawValue, "\(JSONWriter.compact(broken))")
            #expect(broken["error"]?["message"]?.stringValue?.contains("broken on purpose") == true, "\(JSONWriter.compact(broken))")

            // Killed mid-call: the call fails with a specific error, and the server is started again.
            let holder = try daemon.connect()
            try holder.send(line: rpcLine("call", Self.forced("hold", "Hold the line, please."), id: 41))
            _ = logContaining(daemon.child, "holding in process \(firstPID)")
            kill(pid_t(firstPID), SIGKILL)
            let killed = try JSONParser.parse(try holder.readLine(timeout: 60))
            #expect(killed["error"]?["code"]?.intValue == RPCErrorCode.handlerFailed.rawValue, "\(JSONWriter.compact(killed))")
            #expect(killed["error"]?["message"]?.stringValue?.contains("exited during the call") == true, "\(JSONWriter.compact(killed))")
            #expect(killed["error"]?["data"]?["handler"]?["mcp_server"]?.stringValue == "notes", "\(JSONWriter.compact(killed))")
            var restarted: JSONValue?
            #expect(eventually(within: 60) {
                restarted = try? rpc(client, "health")["result"]?["mcp_servers"]?["notes"]
                return restarted?["restarts"]?.intValue == 1 && restarted?["state"]?.stringValue == "running" && restarted?["pid"]?.intValue != nil
            }, "not restarted: \(restarted.map(JSONWriter.compact) ?? "-")")
            #expect(restarted?["pid"]?.intValue != firstPID)
            let afterRestart = try rpc(client, "call", Self.forced("list_notes", "Show me my notes."))
            #expect(afterRestart["result"]?["result"]?["content"] != nil, "the new process answers: \(JSONWriter.compact(afterRestart))")

            // list_changed: the server adds a tool and says so; the catalogue is read again.
            let enabled = try rpc(client, "call", Self.forced("enable_archive", "Turn on archiving."))
            #expect(enabled["result"]?["result"] != nil, "\(JSONWriter.compact(enabled))")
            var tools: [String] = []
            #expect(eventually(within: 60) {
                tools = (try? rpc(client, "tools/list", .object([("catalogue", .string("notes"))])))?["result"]?["notes"]?.arrayValue?
                    .compactMap { $0["name"]?.stringValue } ?? []
                return tools.contains("archive_note")
            }, "archive_note never appeared: \(tools)")
            let archived = try rpc(client, "call", Self.forced("archive_note", "Archive note number 2."))
            #expect(archived["result"]?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.hasPrefix("archived note") == true,
                    "\(JSONWriter.compact(archived))")
            // Calls of MCP tools are counted like handler calls.
            let metrics = try rpc(client, "stats", .object([("format", .string("prometheus"))]))["result"]?["text"]?.stringValue ?? ""
            #expect(metrics.contains(#"toolrouter_handler_calls_total{catalogue="notes",tool="broken",outcome="tool_error"} 1"#), "\(metrics)")
            #expect(daemon.isHealthy())
            holder.disconnect()
            client.disconnect()
            // A clean stop ends the server too.
            #expect(daemon.child.stop() == 0)
            #expect(kill(pid_t(restarted?["pid"]?.intValue ?? 0), 0) != 0, "the MCP server outlived the daemon")
        }
    }
}
