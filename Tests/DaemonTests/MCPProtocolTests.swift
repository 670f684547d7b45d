// The MCP client against a minimal raw-protocol server (Tests/Clients/mcp_paged_server.py): pages of
// `tools/list`, tools refused one by one with their reasons while the rest are served, the server's own
// `ping` answered, `list_changed` read again, `tools/call` results and JSON-RPC errors. No daemon, no model.

import Foundation
import JSON
import Logging
import Synchronization
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// The catalogues handed over, in order.
private final class Handed: Sendable {
    let lists = Mutex<[[String]?]>([])
    func add(_ catalogue: ToolCatalogue?) { lists.withLock { $0.append(catalogue?.names) } }
    var all: [[String]?] { lists.withLock { $0 } }
}

/// Log lines kept for the test to read (message and metadata, flattened).
private final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
}

private struct KeepingHandler: LogHandler {
    let store: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        store.lines.withLock { $0.append("\(event.message) \(fields)") }
    }
}

@Suite("MCP client protocol")
struct MCPProtocolTests {
    @Test("paged tools/list; unsupported tools refused one by one; ping answered; list_changed; call results and errors")
    func pagedServer() async throws {
        let python = try clientsPython()
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Clients/mcp_paged_server.py").path
        let log = LogLines()
        let servers = MCPServers(configs: [MCPServerConfig(name: "paged", command: python, arguments: [script])],
                                 logger: Logger(label: "mcp-test", factory: { _ in KeepingHandler(store: log) }))
        let handed = Handed()
        servers.start { _, catalogue in handed.add(catalogue) }
        defer { servers.stop() }
        await servers.waitForFirstListings(timeout: 60)

        #expect(handed.all.first == ["first_tool", "last_tool"], "every page read, the two bad tools left out: \(handed.all)")
        let status = servers.status["paged"]
        let refused = status?["refused_tools"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(refused.count == 2 && refused[0].hasPrefix("bad.name:") && refused[1].hasPrefix("unsupported_schema:"), "\(refused)")
        #expect(status?["state"]?.stringValue == "running" && status?["tools"]?.intValue == 2)
        // `title` annotations are accepted; a tool without a description takes its title.
        #expect(servers.catalogues.first?.catalogue.tool(named: "last_tool")?.description == "The last tool")

        let result = await servers.call(server: "paged", tool: "first_tool", arguments: .object([("a", .string("x"))]), timeoutMs: 30_000)
        #expect((try? result.get())?["content"]?.arrayValue?.first?["text"]?.stringValue == "ok x", "\(result)")
        // The call made the server announce a changed list: read again, with the new tool.
        var lists: [[String]?] = []
        for _ in 0..<3000 {
            lists = handed.all
            if lists.count >= 2 { break }
            try await Task.sleep(nanoseconds: 10_000_000)   // waiting for the re-listing to be handed over
        }
        #expect(lists.last == ["first_tool", "last_tool", "added_tool"], "\(lists)")
        // The server's ping was answered (it says so on stderr, which the daemon logs), and each refusal was logged.
        #expect(log.all.contains { $0.contains("client answered ping") && $0.contains(#""result": {}"#) }, "\(log.all)")
        // Both listings (at start, after list_changed) logged both refusals.
        #expect(log.all.filter { $0.hasPrefix("mcp server: tool refused") }.count == 4, "\(log.all)")

        let failed = await servers.call(server: "paged", tool: "nope", arguments: .object([]), timeoutMs: 30_000)
        guard case .failure(let error) = failed else { Issue.record("a JSON-RPC error answered as success"); return }
        #expect(error.kind == .handlerFailed && error.message.contains("unknown tool nope"), "\(error)")
        let unknown = await servers.call(server: "other", tool: "x", arguments: .object([]), timeoutMs: 1000)
        guard case .failure(let notRunning) = unknown else { Issue.record("a call to no server succeeded"); return }
        #expect(notRunning.message.contains("not running"))
    }

    @Test("a server that cannot be started is reported, and the daemon's other servers are not held up")
    func unstartable() async throws {
        let servers = MCPServers(configs: [MCPServerConfig(name: "ghost", command: "/nonexistent/mcp-server")], logger: Logger(label: "mcp-test"))
        servers.start { _, _ in }
        defer { servers.stop() }
        await servers.waitForFirstListings(timeout: 30)
        let status = servers.status["ghost"]
        #expect(status?["state"]?.stringValue == "restarting", "\(status.map(JSONWriter.compact) ?? "-")")
        #expect(status?["last_error"]?.stringValue?.contains("could not be started") == true)
        #expect(servers.catalogues.isEmpty)
    }
}
