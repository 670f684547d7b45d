// Tool handlers: who serves which tool, and calls to them with a timeout.
//
// A handler connection registers `{"catalogue", "tools"}` (unknown tools are refused). The daemon sends
// it `invoke {"tool", "arguments"}` requests and waits, up to the handler timeout, for the response with
// the same id. Several handlers of one tool share the load round-robin; a handler that disconnects takes
// its tools offline at once and fails its in-flight calls.

import Foundation
import JSON
import NIOCore
import ToolCalls

/// The live handlers and their pending calls. Thread-safe.
public final class HandlerRegistry: @unchecked Sendable {
    private struct Handler {
        let channel: any Channel
        let catalogue: String
        let tools: Set<String>
    }

    private let lock = NSLock()
    private var catalogues: [String: ToolCatalogue]              // replaced by a reload
    private var handlers: [Int: Handler] = [:]                    // by connection id
    private var pending: [Int: (connection: Int, resume: @Sendable (Result<JSONValue, RPCError>) -> Void)] = [:]
    private var nextCall = 1
    private var turn: [String: Int] = [:]                         // round-robin position per "catalogue/tool"

    /// A registry for the daemon's loaded catalogues.
    public init(catalogues: [(name: String, catalogue: ToolCatalogue)]) {
        self.catalogues = Dictionary(catalogues.map { ($0.name, $0.catalogue) }, uniquingKeysWith: { first, _ in first })
    }

    /// Handlers currently registered.
    public var handlerCount: Int { lock.lock(); defer { lock.unlock() }; return handlers.count }

    /// How many handlers serve each online tool, by catalogue (tools with none are left out).
    public var onlineTools: [String: [String: Int]] {
        lock.lock(); defer { lock.unlock() }
        var online: [String: [String: Int]] = [:]
        for handler in handlers.values {
            for tool in handler.tools { online[handler.catalogue, default: [:]][tool, default: 0] += 1 }
        }
        return online
    }

    /// Registers connection `id` for `tools` of `catalogue`; refuses unknown catalogues and tools by name.
    func register(connection id: Int, channel: any Channel, params: JSONValue?) -> Result<JSONValue, RPCError> {
        guard let name = params?["catalogue"]?.stringValue else { return .failure(.invalidParams(field: "catalogue", "expected a string")) }
        lock.lock()
        let known = catalogues
        lock.unlock()
        guard let catalogue = known[name] else {
            return .failure(RPCError(.unknownCatalogue, "unknown catalogue '\(name)'; loaded: \(known.keys.sorted().joined(separator: ", "))"))
        }
        guard let list = params?["tools"]?.arrayValue, !list.isEmpty else { return .failure(.invalidParams(field: "tools", "expected a non-empty array of tool names")) }
        var tools: Set<String> = []
        for item in list {
            guard let tool = item.stringValue, catalogue.tool(named: tool) != nil else {
                return .failure(.invalidParams(field: "tools", "catalogue '\(name)' has no tool \(JSONWriter.compact(item))"))
            }
            tools.insert(tool)
        }
        lock.lock()
        handlers[id] = Handler(channel: channel, catalogue: name, tools: tools)
        lock.unlock()
        return .success(.object([("registered", .array(tools.sorted().map { .string($0) }))]))
    }

    /// Serves `catalogues` from now on (a reload). Registered handlers keep the tools their catalogue
    /// still has; a tool that left its catalogue, or a catalogue that left, goes offline (the handler
    /// stays connected and may register again). Returns how many registrations lost tools.
    @discardableResult
    public func replaceCatalogues(_ catalogues: [(name: String, catalogue: ToolCatalogue)]) -> Int {
        let updated = Dictionary(catalogues.map { ($0.name, $0.catalogue) }, uniquingKeysWith: { first, _ in first })
        lock.lock()
        defer { lock.unlock() }
        self.catalogues = updated
        var pruned = 0
        for (id, handler) in handlers {
            let kept = handler.tools.filter { updated[handler.catalogue]?.tool(named: $0) != nil }
            guard kept.count != handler.tools.count else { continue }
            pruned += 1
            handlers[id] = Handler(channel: handler.channel, catalogue: handler.catalogue, tools: kept)
        }
        return pruned
    }

    /// Connection `id` closed: its tools go offline and its in-flight calls fail.
    func disconnected(connection id: Int) {
        lock.lock()
        handlers[id] = nil
        let failed = pending.filter { $0.value.connection == id }
        for key in failed.keys { pending[key] = nil }
        lock.unlock()
        for (_, call) in failed { call.resume(.failure(RPCError(.handlerFailed, "the handler disconnected during the call"))) }
    }

    /// A response from connection `id` to call `callID`.
    func completed(connection id: Int, callID: Int, result: Result<JSONValue, RPCError>) {
        lock.lock()
        guard let call = pending[callID], call.connection == id else { lock.unlock(); return }
        pending[callID] = nil
        lock.unlock()
        call.resume(result)
    }

    /// Calls `tool` of `catalogue` on a registered handler and waits up to `timeoutMs` for its result.
    public func invoke(catalogue: String, tool: String, arguments: JSONValue, timeoutMs: Int) async -> Result<JSONValue, RPCError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, RPCError>, Never>) in
            let once = ResumeOnce(continuation)
            lock.lock()
            let candidates = handlers.filter { $0.value.catalogue == catalogue && $0.value.tools.contains(tool) }.keys.sorted()
            guard !candidates.isEmpty else {
                lock.unlock()
                once.resume(.failure(RPCError(.noHandler, "no handler is registered for tool '\(tool)' of catalogue '\(catalogue)'")))
                return
            }
            let key = "\(catalogue)/\(tool)"
            let position = turn[key, default: 0]
            turn[key] = position + 1
            let connection = candidates[position % candidates.count]
            let callID = nextCall
            nextCall += 1
            pending[callID] = (connection, { once.resume($0) })
            let channel = handlers[connection]?.channel
            lock.unlock()

            let request = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(callID))), ("method", .string("invoke")),
                                            ("params", .object([("tool", .string(tool)), ("arguments", arguments)]))])
            channel?.writeAndFlush(ByteBuffer(string: JSONWriter.compact(request) + "\n"), promise: nil)
            Task {
                try? await Task.sleep(nanoseconds: UInt64(max(1, timeoutMs)) * 1_000_000)
                self.timeOut(callID: callID, afterMs: timeoutMs)
            }
        }
    }

    private func timeOut(callID: Int, afterMs: Int) {
        lock.lock()
        guard let call = pending[callID] else { lock.unlock(); return }
        pending[callID] = nil
        lock.unlock()
        call.resume(.failure(RPCError(.handlerTimedOut, "the handler did not answer within \(afterMs) ms")))
    }
}

/// Resumes a continuation at most once (a response, a timeout and a disconnect may race).
private final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Result<JSONValue, RPCError>, Never>?
    init(_ continuation: CheckedContinuation<Result<JSONValue, RPCError>, Never>) { self.continuation = continuation }
    func resume(_ result: Result<JSONValue, RPCError>) {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume(returning: result)
    }
}
