// MCP tool servers as handlers: the daemon spawns each configured server, speaks MCP to it over stdio,
// turns its tools into a catalogue of the same name, and sends the calls routed there as `tools/call`.
//
// Per server, a supervising task: start the process; `initialize` (the handshake, protocol revision
// 2025-11-25, the newest one negotiated that way) and `notifications/initialized`; read `tools/list` page by
// page; hand the catalogue to `onCatalogue`; wait for the process to exit; start it again after a back-off
// (0.5 s doubling to 30 s, back to 0.5 s once it ran a minute). `notifications/tools/list_changed` reads the
// list again and hands over the new catalogue.
//
// Tools become catalogue entries one by one: a tool whose name or `inputSchema` the router cannot take (an
// unsupported keyword, a name outside [A-Za-z0-9_-]) is refused with its reason in the log and in `health`,
// and the rest of the server's tools are served. Annotation keywords (`title`, `description`, …) are fine.

import Foundation
import JSON
import Logging
import Synchronization
import ToolCalls

/// One configured MCP server (`mcp_servers` in the config).
public struct MCPServerConfig: Sendable, Equatable {
    /// The catalogue name its tools are served under.
    public var name: String
    /// The program to run (looked up on PATH when it has no slash).
    public var command: String
    /// Its arguments.
    public var arguments: [String]
    /// Variables added to the daemon's environment for it.
    public var environment: [String: String]
    /// A LoRA adapter trained for its tools.
    public var adapter: String?

    /// A server entry.
    public init(name: String, command: String, arguments: [String] = [], environment: [String: String] = [:], adapter: String? = nil) {
        self.name = name
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.adapter = adapter
    }
}

/// The MCP servers of one daemon and what each currently offers. Thread-safe.
public final class MCPServers: Sendable {
    /// The MCP revision asked for in `initialize`.
    public static let protocolVersion = "2025-11-25"

    private struct ServerState {
        var connection: MCPConnection?
        var catalogue: ToolCatalogue?
        var refused: [String] = []
        var phase = "starting"
        var restarts = 0
        var lastError: String?
    }

    /// The configured servers, in order.
    public let configs: [MCPServerConfig]
    private let logger: Logger
    private let states: Mutex<[String: ServerState]>
    private let stopping = Atomic<Bool>(false)
    private let firstListings = Mutex<[String: Bool]>([:])
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Where supervision runs: a thread of its own, not the shared pool (see DedicatedExecutor).
    private let executor = DedicatedExecutor(name: "toolrouter-mcp")
    /// How long `initialize` and each `tools/list` page may take.
    let setupTimeoutMs = 15_000

    /// The servers of `configs` (nothing runs before `start`).
    public init(configs: [MCPServerConfig], logger: Logger) {
        self.configs = configs
        self.logger = logger
        states = Mutex(Dictionary(uniqueKeysWithValues: configs.map { ($0.name, ServerState()) }))
    }

    /// Whether `catalogue` is an MCP server's.
    public func serves(_ catalogue: String) -> Bool { configs.contains { $0.name == catalogue } }

    /// Whether `name`'s process is up and answering (it counts as the one handler of each of its tools).
    public func isRunning(_ name: String) -> Bool {
        states.withLock { $0[name]?.connection?.isOpen == true && $0[name]?.phase == "running" }
    }

    /// The catalogues read so far, in configuration order.
    public var catalogues: [(name: String, catalogue: ToolCatalogue)] {
        let current = states.withLock { $0 }
        return configs.compactMap { config in current[config.name]?.catalogue.map { (config.name, $0) } }
    }

    /// Starts every server's supervising task; `onCatalogue` gets each catalogue as it is read or changes
    /// (nil: the server offers no usable tool any more).
    public func start(onCatalogue: @escaping @Sendable (MCPServerConfig, ToolCatalogue?) async -> Void) {
        for config in configs {
            let task = Task(executorPreference: executor) { await self.supervise(config, onCatalogue: onCatalogue) }
            tasks.withLock { $0.append(task) }
        }
    }

    /// Waits until every server has been listed once (or failed to start), at most `timeout` seconds.
    public func waitForFirstListings(timeout: Double) async {
        let deadline = Date().addingTimeInterval(timeout)
        while firstListings.withLock({ $0.count }) < configs.count && Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Stops every server and their supervision: SIGTERM, up to `grace` seconds to exit, then SIGKILL. Returns
    /// once every server process has exited and been reaped (or a second after the SIGKILL), so a stopped daemon
    /// leaves no server behind.
    public func stop(grace: Double = 5) {
        stopping.store(true, ordering: .relaxed)
        let connections = states.withLock { $0.values.compactMap(\.connection) }
        for connection in connections { connection.terminate() }
        func waitForExits(_ seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while connections.contains(where: { !$0.hasExited }) {
                guard Date() < deadline else { return false }
                usleep(10_000)   // the reader threads reap the processes; this only waits for them to have done so
            }
            return true
        }
        if !waitForExits(grace) {
            for connection in connections where !connection.hasExited {
                logger.warning("mcp server did not stop in time; killing it", metadata: ["server": "\(connection.name)", "pid": "\(connection.pid)"])
                connection.terminate(kill: true)
            }
            _ = waitForExits(1)
        }
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// `tools/call` on `server`: the result without `isError`; a tool that reports an error is `toolError`,
    /// a server that is down or dies during the call is `handlerFailed`, a slow one `handlerTimedOut`.
    public func call(server: String, tool: String, arguments: JSONValue, timeoutMs: Int) async -> Result<JSONValue, ServiceError> {
        guard let connection = states.withLock({ $0[server]?.connection }), connection.isOpen else {
            return .failure(ServiceError(.handlerFailed, "MCP server '\(server)' is not running (it is being restarted)",
                                         data: .object([("mcp_server", .string(server)), ("reason", .string("not_running"))])))
        }
        let params: JSONValue = .object([("name", .string(tool)), ("arguments", arguments)])
        switch await connection.request("tools/call", params: params, timeoutMs: timeoutMs) {
        case .success(let result):
            let payload: JSONValue = .object((result.objectMembers ?? []).filter { $0.key != "isError" })
            if result["isError"] == .bool(true) {
                let text = result["content"]?.arrayValue?.compactMap { $0["text"]?.stringValue }.joined(separator: " ") ?? ""
                return .failure(ServiceError(.toolError, "tool '\(tool)' of MCP server '\(server)' reported an error: \(text.prefix(500))",
                                             data: payload))
            }
            return .success(payload)
        case .failure(let error):
            let reason: String
            let kind: ServiceError.Kind
            switch error {
            case .exited: reason = "exited"; kind = .handlerFailed
            case .notRunning: reason = "not_running"; kind = .handlerFailed
            case .timedOut: reason = "timed_out"; kind = .handlerTimedOut
            case .rpc: reason = "error"; kind = .handlerFailed
            case .spawn, .protocolError: reason = "protocol"; kind = .handlerProtocolError
            }
            let message = error == .exited(server: server) ? "MCP server '\(server)' exited during the call; it is being restarted" : "\(error)"
            return .failure(ServiceError(kind, message, data: .object([("mcp_server", .string(server)), ("reason", .string(reason))])))
        }
    }

    /// `{"name": {"state", "pid", "tools", "restarts", "refused_tools"?, "last_error"?}}` for `health`.
    public var status: JSONValue {
        let current = states.withLock { $0 }
        return .object(configs.map { config in
            let state = current[config.name] ?? ServerState()
            var members: [(key: String, value: JSONValue)] = [("state", .string(state.phase))]
            if let connection = state.connection, connection.isOpen { members.append(("pid", .number(JSONNumber(Int(connection.pid))))) }
            members.append(("tools", .number(JSONNumber(state.catalogue?.tools.count ?? 0))))
            members.append(("restarts", .number(JSONNumber(state.restarts))))
            if !state.refused.isEmpty { members.append(("refused_tools", .array(state.refused.map(JSONValue.string)))) }
            if let error = state.lastError { members.append(("last_error", .string(error))) }
            return (key: config.name, value: .object(members))
        })
    }

    // MARK: Supervision

    private func supervise(_ config: MCPServerConfig, onCatalogue: @escaping @Sendable (MCPServerConfig, ToolCatalogue?) async -> Void) async {
        var backoff = 0.5
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            let started = Date()
            let (exits, exited) = AsyncStream<Int32>.makeStream()
            let listing = Mutex<Task<Void, Never>?>(nil)
            let connection: MCPConnection
            do {
                connection = try MCPConnection.start(
                    name: config.name, command: config.command, arguments: config.arguments, environment: config.environment, logger: logger,
                    onNotification: { [weak self] method, _ in
                        guard let self, method == "notifications/tools/list_changed" else { return }
                        self.logger.info("mcp server: tool list changed", metadata: ["server": "\(config.name)"])
                        let task = Task(executorPreference: self.executor) { await self.list(config, onCatalogue: onCatalogue) }
                        listing.withLock { $0 = task }
                    },
                    onExit: { status in exited.yield(status); exited.finish() })
            } catch {
                record(config.name) { $0.phase = "restarting"; $0.lastError = "\(error)" }
                logger.error("mcp server could not be started", metadata: ["server": "\(config.name)", "error": "\(error)"])
                markListed(config.name)
                backoff = await pause(backoff)
                continue
            }
            record(config.name) { $0.connection = connection; $0.phase = "starting" }
            // A stop that began while this one was starting did not see it: it goes the same way.
            if stopping.load(ordering: .relaxed) { connection.terminate(kill: true) }
            logger.notice("mcp server started", metadata: ["server": "\(config.name)", "pid": "\(connection.pid)"])
            if await handshake(connection, config) {
                await list(config, onCatalogue: onCatalogue)
            } else {
                connection.terminate()
            }
            markListed(config.name)
            var status: Int32 = -1
            for await code in exits { status = code }
            listing.withLock { $0?.cancel() }
            guard !stopping.load(ordering: .relaxed) else { record(config.name) { $0.phase = "stopped" }; return }
            record(config.name) { $0.phase = "restarting"; $0.restarts += 1; $0.lastError = "exited with status \(status)" }
            logger.error("mcp server exited; restarting", metadata: ["server": "\(config.name)", "status": "\(status)",
                                                                      "backoff_s": "\(Date().timeIntervalSince(started) > 60 ? 0.5 : backoff)"])
            if Date().timeIntervalSince(started) > 60 { backoff = 0.5 }
            backoff = await pause(backoff)
        }
    }

    /// Sleeps `seconds` (the restart back-off); the next back-off.
    private func pause(_ seconds: Double) async -> Double {
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        return min(30, seconds * 2)
    }

    /// `initialize` then `notifications/initialized`; false (logged) when the server does not complete it.
    private func handshake(_ connection: MCPConnection, _ config: MCPServerConfig) async -> Bool {
        let params: JSONValue = .object([
            ("protocolVersion", .string(Self.protocolVersion)), ("capabilities", .object([])),
            ("clientInfo", .object([("name", .string("toolrouter")), ("version", .string("1"))])),
        ])
        switch await connection.request("initialize", params: params, timeoutMs: setupTimeoutMs) {
        case .success(let result):
            let version = result["protocolVersion"]?.stringValue ?? "?"
            logger.info("mcp server initialized", metadata: ["server": "\(config.name)", "protocol": "\(version)",
                                                             "server_name": "\(result["serverInfo"]?["name"]?.stringValue ?? "-")"])
            connection.notify("notifications/initialized")
            return true
        case .failure(let error):
            record(config.name) { $0.lastError = "initialize: \(error)" }
            logger.error("mcp server: initialize failed", metadata: ["server": "\(config.name)", "error": "\(error)"])
            return false
        }
    }

    /// Reads every page of `tools/list`, builds the catalogue and hands it over.
    private func list(_ config: MCPServerConfig, onCatalogue: @escaping @Sendable (MCPServerConfig, ToolCatalogue?) async -> Void) async {
        guard let connection = states.withLock({ $0[config.name]?.connection }) else { return }
        var tools: [JSONValue] = []
        var cursor: String?
        for _ in 0..<1000 {
            let params: JSONValue = .object(cursor.map { [("cursor", .string($0))] } ?? [])
            switch await connection.request("tools/list", params: params, timeoutMs: setupTimeoutMs) {
            case .failure(let error):
                record(config.name) { $0.lastError = "tools/list: \(error)" }
                logger.error("mcp server: tools/list failed", metadata: ["server": "\(config.name)", "error": "\(error)"])
                return
            case .success(let page):
                tools += page["tools"]?.arrayValue ?? []
                cursor = page["nextCursor"]?.stringValue
            }
            if cursor == nil { break }
        }
        let (catalogue, refused) = Self.catalogue(from: tools)
        for reason in refused { logger.warning("mcp server: tool refused", metadata: ["server": "\(config.name)", "reason": "\(reason)"]) }
        record(config.name) { $0.catalogue = catalogue; $0.refused = refused; $0.phase = "running" }
        logger.notice("mcp server tools listed", metadata: ["server": "\(config.name)", "tools": "\(catalogue?.names.joined(separator: ",") ?? "none")",
                                                            "refused": "\(refused.count)"])
        await onCatalogue(config, catalogue)
    }

    /// The catalogue of an MCP tool list, each tool taken on its own: the ones refused, with why.
    static func catalogue(from tools: [JSONValue]) -> (ToolCatalogue?, [String]) {
        var accepted: [JSONValue] = []
        var names = Set<String>()
        var refused: [String] = []
        for (index, tool) in tools.enumerated() {
            let name = tool["name"]?.stringValue ?? "#\(index)"
            let description = tool["description"]?.stringValue ?? tool["title"]?.stringValue ?? ""
            let entry: JSONValue = .object([("type", .string("function")), ("function", .object([
                ("name", .string(name)), ("description", .string(description)),
                ("parameters", tool["inputSchema"] ?? .object([("type", .string("object"))])),
            ]))])
            do {
                _ = try ToolCatalogue(json: .array([entry]))
            } catch {
                refused.append("\(name): \(error)")
                continue
            }
            guard names.insert(name).inserted else { refused.append("\(name): listed twice"); continue }
            accepted.append(entry)
        }
        guard !accepted.isEmpty, let catalogue = try? ToolCatalogue(json: .array(accepted)) else { return (nil, refused) }
        return (catalogue, refused)
    }

    private func record(_ name: String, _ change: (inout ServerState) -> Void) {
        states.withLock { states in
            var state = states[name] ?? ServerState()
            change(&state)
            states[name] = state
        }
    }

    private func markListed(_ name: String) { firstListings.withLock { $0[name] = true } }
}
