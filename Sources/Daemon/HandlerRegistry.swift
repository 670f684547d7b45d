// Tool handlers: who serves which tool, and calls to them with a timeout.
//
// A handler connection registers `{"catalogue", "tools"}` (unknown tools are refused). The daemon sends
// it `invoke {"tool", "arguments"}` requests and waits, up to the handler timeout, for the response with
// the same id. Several handlers of one tool share the load round-robin; a handler that disconnects takes
// its tools offline at once and fails its in-flight calls.
//
// Ownership: the first peer uid to register a tool of a catalogue owns it. Connections of the same uid share
// its load; a registration from another uid that names it is refused (`toolOwned`), so a process that can
// reach the handler socket cannot take a share of another user's calls and forge their results. Ownership is
// not stored: the owner is the uid of the tool's live handlers, so it ends when the owner's last connection
// serving the tool closes (or a reload drops the tool), and the next registration takes it.
//
// Back-pressure: a connection has at most `maxInFlightPerHandler` calls outstanding, and gets none while its
// channel is not writable (it is not reading its invokes). A call skips such handlers for the next one of the
// tool; when every handler is full or stuck it fails at once with `handlerBusy` instead of piling up writes.
//
// `tool_owners` in the config may name, per tool, the only uids that may register it at all.

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
        /// The peer's uid (nil when the kernel would not say: such a peer shares tools only with its kind).
        let uid: UInt32?
    }

    private struct Pending {
        let connection: Int
        let resume: @Sendable (Result<JSONValue, RPCError>) -> Void
    }

    /// Calls one handler connection may have outstanding; more go to another handler of the tool, or fail
    /// with `handlerBusy`.
    public static let maxInFlightPerHandler = 32

    private let lock = NSLock()
    private var catalogues: [String: ToolCatalogue]              // replaced by a reload
    private var handlers: [Int: Handler] = [:]                    // by connection id
    private var pending: [Int: Pending] = [:]                     // by call id
    private var inFlight: [Int: Int] = [:]                        // outstanding calls by connection id
    private var nextCall = 1
    private var turn: [String: Int] = [:]                         // round-robin position per "catalogue/tool"
    private let allowedOwners: [String: [UInt32]]                 // tool_owners: "catalogue/tool" or "tool" → uids

    /// A registry for the daemon's loaded catalogues; `toolOwners` ("catalogue/tool" or "tool" → uids) limits
    /// who may register the tools it names.
    public init(catalogues: [(name: String, catalogue: ToolCatalogue)], toolOwners: [String: [UInt32]] = [:]) {
        self.catalogues = Dictionary(catalogues.map { ($0.name, $0.catalogue) }, uniquingKeysWith: { first, _ in first })
        self.allowedOwners = toolOwners
    }

    /// The `tool_owners` keys that name no tool of `catalogues` ("catalogue/tool" of a loaded catalogue, or a
    /// bare tool name some loaded catalogue has), sorted: a misspelt key would otherwise protect nothing.
    public static func unknownOwnerKeys(_ toolOwners: [String: [UInt32]], catalogues: [(name: String, catalogue: ToolCatalogue)]) -> [String] {
        toolOwners.keys.filter { key in
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2 { return catalogues.first { $0.name == parts[0] }?.catalogue.tool(named: parts[1]) == nil }
            return !catalogues.contains { $0.catalogue.tool(named: key) != nil }
        }.sorted()
    }

    /// Handlers currently registered.
    public var handlerCount: Int { lock.lock(); defer { lock.unlock() }; return handlers.count }

    /// Calls sent to handlers and not answered yet.
    public var callsInFlight: Int { lock.lock(); defer { lock.unlock() }; return pending.count }

    /// How many handlers serve each online tool, by catalogue (tools with none are left out).
    public var onlineTools: [String: [String: Int]] {
        lock.lock(); defer { lock.unlock() }
        var online: [String: [String: Int]] = [:]
        for handler in handlers.values {
            for tool in handler.tools { online[handler.catalogue, default: [:]][tool, default: 0] += 1 }
        }
        return online
    }

    /// The uid owning each online tool, by catalogue (tools whose handlers' uid is unknown are left out).
    public var toolOwners: [String: [String: UInt32]] {
        lock.lock(); defer { lock.unlock() }
        var owners: [String: [String: UInt32]] = [:]
        for handler in handlers.values {
            guard let uid = handler.uid else { continue }
            for tool in handler.tools { owners[handler.catalogue, default: [:]][tool] = uid }
        }
        return owners
    }

    /// Registers connection `id` of peer `uid` for `tools` of `catalogue`; refuses unknown catalogues and
    /// tools by name, and tools a handler of another uid serves (`toolOwned`, naming the first such tool).
    func register(connection id: Int, channel: any Channel, uid: UInt32?, params: JSONValue?) -> Result<JSONValue, RPCError> {
        guard let name = params?["catalogue"]?.stringValue else { return .failure(.invalidParams(field: "catalogue", "expected a string")) }
        lock.lock()
        defer { lock.unlock() }
        guard let catalogue = catalogues[name] else {
            return .failure(RPCError(.unknownCatalogue, "unknown catalogue '\(name)'; loaded: \(catalogues.keys.sorted().joined(separator: ", "))"))
        }
        guard let list = params?["tools"]?.arrayValue, !list.isEmpty else { return .failure(.invalidParams(field: "tools", "expected a non-empty array of tool names")) }
        var tools: Set<String> = []
        for item in list {
            guard let tool = item.stringValue, catalogue.tool(named: tool) != nil else {
                return .failure(.invalidParams(field: "tools", "catalogue '\(name)' has no tool \(JSONWriter.compact(item))"))
            }
            tools.insert(tool)
        }
        for tool in tools.sorted() {
            guard let allowed = allowedOwners["\(name)/\(tool)"] ?? allowedOwners[tool], !(uid.map(allowed.contains) ?? false) else { continue }
            return .failure(RPCError(.toolOwned, "tool '\(tool)' of catalogue '\(name)' may be registered only by the users tool_owners names for it; registration refused",
                                     data: .object([("catalogue", .string(name)), ("tool", .string(tool))])))
        }
        for (other, handler) in handlers where other != id && handler.catalogue == name && handler.uid != uid {
            if let taken = tools.sorted().first(where: handler.tools.contains) {
                return .failure(RPCError(.toolOwned, "tool '\(taken)' of catalogue '\(name)' is served by a handler of another user; "
                                         + "registration refused (a tool belongs to the first user to register it, until that user's last handler of it disconnects)",
                                         data: .object([("catalogue", .string(name)), ("tool", .string(taken))])))
            }
        }
        handlers[id] = Handler(channel: channel, catalogue: name, tools: tools, uid: uid)
        return .success(.object([("registered", .array(tools.sorted().map { .string($0) }))]))
    }

    /// The uid owning `tool` of `catalogue` now (for logs), if it is online.
    func owner(catalogue: String, tool: String) -> UInt32? {
        lock.lock(); defer { lock.unlock() }
        return handlers.values.first { $0.catalogue == catalogue && $0.tools.contains(tool) }?.uid
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
            handlers[id] = Handler(channel: handler.channel, catalogue: handler.catalogue, tools: kept, uid: handler.uid)
        }
        return pruned
    }

    /// Connection `id` closed: its tools go offline and its in-flight calls fail with `error`.
    /// Returns how many calls failed.
    @discardableResult
    func disconnected(connection id: Int, failing error: RPCError = RPCError(.handlerFailed, "the handler disconnected during the call")) -> Int {
        lock.lock()
        handlers[id] = nil
        inFlight[id] = nil
        let failed = pending.filter { $0.value.connection == id }
        for key in failed.keys { pending[key] = nil }
        lock.unlock()
        for call in failed.values { call.resume(.failure(error)) }
        return failed.count
    }

    /// A response from connection `id` to call `callID`.
    func completed(connection id: Int, callID: Int, result: Result<JSONValue, RPCError>) {
        guard let call = take(callID: callID, from: id) else { return }
        call.resume(result)
    }

    /// Removes pending call `callID` (only if `connection` holds it, when given) and counts it done.
    private func take(callID: Int, from connection: Int? = nil) -> Pending? {
        lock.lock()
        defer { lock.unlock() }
        guard let call = pending[callID], connection == nil || call.connection == connection else { return nil }
        pending[callID] = nil
        if let count = inFlight[call.connection] { inFlight[call.connection] = count > 1 ? count - 1 : nil }
        return call
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
            // Round-robin from this tool's turn, past handlers that are full or not reading their invokes.
            let key = "\(catalogue)/\(tool)"
            let position = turn[key, default: 0]
            let ready = (0..<candidates.count).lazy.map { candidates[(position + $0) % candidates.count] }.first { connection in
                self.inFlight[connection, default: 0] < Self.maxInFlightPerHandler && self.handlers[connection]?.channel.isWritable == true
            }
            guard let connection = ready, let channel = handlers[connection]?.channel else {
                lock.unlock()
                once.resume(.failure(RPCError(.handlerBusy, "every handler of tool '\(tool)' of catalogue '\(catalogue)' (\(candidates.count)) has "
                                              + "\(Self.maxInFlightPerHandler) calls in flight or is not reading; try again later")))
                return
            }
            turn[key] = position + 1
            let callID = nextCall
            nextCall += 1
            pending[callID] = Pending(connection: connection, resume: { once.resume($0) })
            inFlight[connection, default: 0] += 1
            lock.unlock()

            let request = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(callID))), ("method", .string("invoke")),
                                            ("params", .object([("tool", .string(tool)), ("arguments", arguments)]))])
            channel.writeAndFlush(ByteBuffer(string: JSONWriter.compact(request) + "\n"), promise: nil)
            Task {
                try? await Task.sleep(nanoseconds: UInt64(max(1, timeoutMs)) * 1_000_000)
                self.timeOut(callID: callID, afterMs: timeoutMs)
            }
        }
    }

    private func timeOut(callID: Int, afterMs: Int) {
        take(callID: callID)?.resume(.failure(RPCError(.handlerTimedOut, "the handler did not answer within \(afterMs) ms")))
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
