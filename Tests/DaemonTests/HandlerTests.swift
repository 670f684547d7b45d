// Tool handlers over a real socket, with real handler processes (examples/handler.py).

import Foundation
import JSON
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// A handler process running examples/handler.py.
private final class HandlerProcess {
    let process = Process()
    let errors = Pipe()
    init(socket: String, catalogue: String = "support", extra: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestPaths.packageRoot.appendingPathComponent("examples/handler.py").path,
                             "--socket", socket, "--catalogue", catalogue] + extra
        process.standardError = errors
        try process.run()
    }
    func stop() { if process.isRunning { process.terminate() }; process.waitUntilExit() }
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

    @Test("registering an unknown tool is refused by name")
    func unknownTool() async throws {
        let (registry, server) = try await Self.start()
        let handler = try HandlerProcess(socket: server.path, extra: ["--tools", "track_order,launch_rocket"])
        handler.process.waitUntilExit()
        let message = String(decoding: handler.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(handler.process.terminationStatus == 1)
        #expect(message.contains("launch_rocket"))
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
