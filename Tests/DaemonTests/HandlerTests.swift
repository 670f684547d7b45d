// Tool handlers over a real socket, with real handler processes (examples/handler.py).

import Foundation
import JSON
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// A handler process running examples/handler.py (spawned with `ChildProcess`, so it takes SIGTERM: a
/// child started from a Swift concurrency thread by Foundation's `Process` inherits its blocked signals).
private final class HandlerProcess {
    let child: ChildProcess
    init(socket: String, catalogue: String = "support", extra: [String] = []) throws {
        child = try ChildProcess("/usr/bin/env", ["python3", TestPaths.packageRoot.appendingPathComponent("examples/handler.py").path,
                                                  "--socket", socket, "--catalogue", catalogue] + extra, log: "handler")
    }
    func stop() { child.stop() }
}

private func supportCatalogue() throws -> ToolCatalogue {
    try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
}

/// Waits until `registry` has `count` handlers (registration is asynchronous).
private func waitForHandlers(_ registry: HandlerRegistry, _ count: Int) async throws {
    for _ in 0..<500 where registry.handlerCount < count { try await Task.sleep(nanoseconds: 10_000_000) }
    #expect(registry.handlerCount == count)
}

@Suite("Tool handlers", .serialized)
struct HandlerTests {
    static func start() async throws -> (HandlerRegistry, AgentServer) {
        let registry = HandlerRegistry(catalogues: [("support", try supportCatalogue())])
        let path = NSTemporaryDirectory() + "toolrouter-handlers-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = try await AgentServer.startHandlers(registry: registry, path: path, mode: 0o600, maxLineBytes: 1 << 20)
        return (registry, server)
    }

    @Test("a registered handler answers invokes; two handlers of a tool share the load")
    func invokeAndShare() async throws {
        let (registry, server) = try await Self.start()
        let first = try HandlerProcess(socket: server.path), second = try HandlerProcess(socket: server.path)
        defer { first.stop(); second.stop() }
        try await waitForHandlers(registry, 2)
        var pids: Set<Int> = []
        for i in 0..<4 {
            let result = await registry.invoke(catalogue: "support", tool: "track_order",
                                               arguments: .object([("order_id", .string("ORD-\(1000 + i)"))]), timeoutMs: 5000)
            let value = try result.get()
            #expect(value["order_id"]?.stringValue == "ORD-\(1000 + i)")
            pids.insert(value["handler_pid"]?.intValue ?? 0)
        }
        #expect(pids.count == 2)
        await server.close()
    }

    @Test("a handler that does not read holds at most 32 calls; the next goes to another handler of the tool, or fails at once with handlerBusy")
    func inFlightCap() async throws {
        let (registry, server) = try await Self.start()
        let stuck = try RawHandler(socket: server.path)   // registers track_order, then never reads
        try await waitForHandlers(registry, 1)
        let cap = HandlerRegistry.maxInFlightPerHandler
        let arguments = JSONValue.object([("order_id", .string("ORD-1234"))])
        let held = Task {
            await withTaskGroup(of: Result<JSONValue, RPCError>.self) { group in
                for _ in 0..<cap { group.addTask { await registry.invoke(catalogue: "support", tool: "track_order", arguments: arguments, timeoutMs: 60_000) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        for _ in 0..<500 where registry.callsInFlight < cap { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(registry.callsInFlight == cap)

        // Full: the next call fails at once, not at its 60 s timeout.
        let start = Date()
        let overflow = await registry.invoke(catalogue: "support", tool: "track_order", arguments: arguments, timeoutMs: 60_000)
        if case .failure(let error) = overflow { #expect(error.code == .handlerBusy, "\(error)") } else { Issue.record("a full handler took a call") }
        #expect(Date().timeIntervalSince(start) < 5)

        // With a second handler, calls past the cap go to it. (A ChildProcess: SIGTERM stops it even if this test fails early.)
        let good = try ChildProcess("/usr/bin/env", ["python3", TestPaths.packageRoot.appendingPathComponent("examples/handler.py").path,
                                                     "--socket", server.path, "--catalogue", "support", "--tools", "track_order"], log: "good")
        defer { good.stop() }
        try await waitForHandlers(registry, 2)
        for _ in 0..<4 {
            let result = await registry.invoke(catalogue: "support", tool: "track_order", arguments: arguments, timeoutMs: 10_000)
            #expect((try? result.get())?["handler_pid"]?.intValue == Int(good.pid), "\(result)")
        }

        // The stuck handler leaves: its held calls fail at once.
        stuck.client.disconnect()
        let results = await held.value
        #expect(results.count == cap)
        #expect(results.allSatisfy { if case .failure(let error) = $0 { error.code == .handlerFailed } else { false } })
        await server.close()
    }

    @Test("a handler whose channel is not writable (it does not read a large invoke) gets no more calls: they fail at once with handlerBusy")
    func notWritable() async throws {
        let (registry, server) = try await Self.start()
        let stuck = try Flooder(path: server.path)
        try stuck.send(line: #"{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":["track_order"]}}"#)
        #expect(try JSONParser.parse(stuck.readLine(timeout: 10))["result"] != nil)
        try await waitForHandlers(registry, 1)
        // 1 MiB: more than the kernel's socket buffer takes, so most of it waits in the daemon, above the
        // channel's high-water mark, as soon as the invoke is written.
        let big = JSONValue.object([("order_id", .string(String(repeating: "9", count: 1 << 20)))])
        let first = Task { await registry.invoke(catalogue: "support", tool: "track_order", arguments: big, timeoutMs: 60_000) }
        for _ in 0..<500 where stuck.unreadBytes == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(stuck.unreadBytes > 0, "the first invoke was written")

        let start = Date()
        let second = await registry.invoke(catalogue: "support", tool: "track_order", arguments: .object([("order_id", .string("ORD-1"))]),
                                           timeoutMs: 60_000)
        if case .failure(let error) = second { #expect(error.code == .handlerBusy, "\(error)") } else { Issue.record("a handler that reads nothing took a call") }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(registry.callsInFlight == 1)

        stuck.disconnect()
        if case .failure(let error) = await first.value { #expect(error.code == .handlerFailed) } else { Issue.record("the first call was answered") }
        await server.close()
    }

    @Test("tool_owners: a tool it names may be registered only by the uids it lists, in that catalogue or (by bare name) in any")
    func configuredOwners() async throws {
        let registry = HandlerRegistry(catalogues: [("support", try supportCatalogue())],
                                       toolOwners: ["support/track_order": [getuid() &+ 1], "escalate": [getuid()]])
        let path = NSTemporaryDirectory() + "toolrouter-owners-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = try await AgentServer.startHandlers(registry: registry, path: path, mode: 0o600, maxLineBytes: 1 << 20)
        let client = try AgentClient(path: server.path)
        func register(_ tools: String) throws -> JSONValue {
            try JSONParser.parse(try client.request(#"{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":[\#(tools)]}}"#, timeout: 10))
        }
        let refused = try register(#""escalate","track_order""#)
        #expect(refused["error"]?["code"]?.intValue == RPCErrorCode.toolOwned.rawValue, "\(JSONWriter.compact(refused))")
        #expect(refused["error"]?["data"]?["tool"]?.stringValue == "track_order")
        #expect(registry.handlerCount == 0)
        #expect(try register(#""escalate","request_refund""#)["result"]?["registered"] == .array([.string("escalate"), .string("request_refund")]))
        #expect(registry.handlerCount == 1)
        await server.close()
    }

    @Test("tool_owners keys that name no loaded tool are found, and serve refuses to start with one, naming it")
    func misspeltOwnerKeys() throws {
        let loaded = [("support", try supportCatalogue())]
        let keys = HandlerRegistry.unknownOwnerKeys(["support/track_order": [1], "escalate": [1], "support/track_ordr": [1],
                                                     "devops/restart_service": [1], "launch_rocket": [1]], catalogues: loaded)
        #expect(keys == ["devops/restart_service", "launch_rocket", "support/track_ordr"])
        let serve = try ServeChild(["--tool-owner", "support/track_ordr=0"], name: "owners")
        let code = serve.child.wait(timeout: 120)
        #expect(code == 1, "exit \(String(describing: code))")
        #expect(serve.child.output.contains("tool_owners names tools that no loaded catalogue has: support/track_ordr"), "\(serve.child.output)")
    }

    @Test("registering an unknown tool is refused by name")
    func unknownTool() async throws {
        let (registry, server) = try await Self.start()
        let handler = try HandlerProcess(socket: server.path, extra: ["--tools", "track_order,launch_rocket"])
        let status = handler.child.wait(timeout: 60)
        #expect(status == 1, "\(handler.child.output)")
        #expect(handler.child.output.contains("launch_rocket"))
        #expect(registry.handlerCount == 0)
        await server.close()
    }

    @Test("a slow handler times out; a handler that dies mid-call fails the call at once; its tools go offline")
    func timeoutAndDeath() async throws {
        let (registry, server) = try await Self.start()
        let slow = try HandlerProcess(socket: server.path, extra: ["--tools", "escalate", "--delay", "3"])
        let dying = try HandlerProcess(socket: server.path, extra: ["--tools", "track_order", "--die-after", "1"])
        defer { slow.stop(); dying.stop() }
        try await waitForHandlers(registry, 2)

        let timedOut = await registry.invoke(catalogue: "support", tool: "escalate", arguments: .object([("reason", .string("angry"))]), timeoutMs: 300)
        if case .failure(let error) = timedOut { #expect(error.code == .handlerTimedOut) } else { Issue.record("slow handler answered in time") }

        let start = Date()
        let died = await registry.invoke(catalogue: "support", tool: "track_order", arguments: .object([("order_id", .string("ORD-1234"))]), timeoutMs: 10_000)
        if case .failure(let error) = died { #expect(error.code == .handlerFailed) } else { Issue.record("dead handler answered") }
        #expect(Date().timeIntervalSince(start) < 5, "the failure must not wait for the timeout")

        try await waitForHandlers(registry, 1)
        let offline = await registry.invoke(catalogue: "support", tool: "track_order", arguments: .object([("order_id", .string("ORD-1234"))]), timeoutMs: 1000)
        if case .failure(let error) = offline { #expect(error.code == .noHandler) } else { Issue.record("an offline tool answered") }
        await server.close()
    }
}
