// `toolrouter serve`: the daemon.

import ArgumentParser
import Daemon
import Dispatch
import Foundation
import GGUF
import Inference
import Logging
import Router
import Tokenizer
import ToolCalls

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: load the model and catalogues once, answer agents on the agent socket.",
        discussion: "Settings come from --config FILE (JSON, see systemd/toolrouter.example.json) and/or flags; flags win.")

    @Option(help: "Config file (JSON).") var config: String?
    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).") var model: String?
    @Option(name: .customLong("catalogue"), help: "NAME=FILE.tools.json (repeatable).") var catalogues: [String] = []
    @Option(name: .customLong("adapter"), help: "NAME=PATH: LoRA adapter for catalogue NAME (repeatable).") var adapters: [String] = []
    @Option(name: .customLong("agent-socket"), help: "Agents' socket path.") var agentSocket: String?
    @Option(name: .customLong("handler-socket"), help: "Handlers' socket path.") var handlerSocket: String?
    @Option(name: .customLong("http-socket"), help: "Unix socket for the OpenAI-compatible HTTP API (off by default).") var httpSocket: String?
    @Option(name: .customLong("http-listen"), help: "Also serve HTTP on TCP HOST:PORT (loopback unless --http-token-file).") var httpListen: String?
    @Option(name: .customLong("http-token-file"), help: "File with the bearer token HTTP requests must carry.") var httpTokenFile: String?
    @Option(name: .customLong("socket-mode"), help: "Permission bits of the agent (and HTTP) socket, octal (e.g. 0660).") var socketMode: String?
    @Option(name: .customLong("allowed-uid"), help: "Peer uid allowed on the agent socket (repeatable).") var allowedUIDs: [UInt32] = []
    @Option(name: .customLong("allowed-gid"), help: "Peer gid allowed on the agent socket (repeatable).") var allowedGIDs: [UInt32] = []
    @Option(name: .customLong("handler-socket-mode"), help: "Permission bits of the handler socket, octal (e.g. 0660).") var handlerSocketMode: String?
    @Option(name: .customLong("handler-allowed-uid"), help: "Peer uid allowed on the handler socket (repeatable).") var handlerAllowedUIDs: [UInt32] = []
    @Option(name: .customLong("handler-allowed-gid"), help: "Peer gid allowed on the handler socket (repeatable).") var handlerAllowedGIDs: [UInt32] = []
    @Option(name: .customLong("tool-owner"), help: "TOOL=UID[,UID...]: only these uids may register TOOL (\"catalogue/tool\" or \"tool\"; repeatable).")
    var toolOwners: [String] = []
    @Option(name: .customLong("chat-template"), help: "Prompt format: chatml, llama3 or gemma (default: the one recognised from the model file).")
    var chatTemplate: String?
    @Option(name: .customLong("queue-depth"), help: "Requests waiting before 'overloaded'.") var queueDepth: Int?
    @Option(name: .customLong("default-deadline-ms"), help: "Deadline of requests that name none.") var defaultDeadlineMs: Int?
    @Option(name: .customLong("handler-timeout-ms"), help: "Time a handler has to answer.") var handlerTimeoutMs: Int?
    @Option(name: .customLong("max-tokens"), help: "Generated tokens per request.") var maxTokens: Int?
    @Option(name: .customLong("max-message-bytes"), help: "Longest protocol line.") var maxMessageBytes: Int?
    @Option(name: .customLong("context-tokens"), help: "KV cache capacity.") var contextTokens: Int?
    @Option(name: .customLong("max-connections"), help: "Open connections per socket.") var maxConnections: Int?
    @Option(name: .customLong("stop-timeout-ms"), help: "At SIGTERM, how long accepted requests may still take (then shutting_down).") var stopTimeoutMs: Int?
    @Option(name: .customLong("idle-timeout-ms"), help: "Idle time after which a connection is closed.") var idleTimeoutMs: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), notice, warning, error or critical.") var logLevel: String?
    @Option(name: .customLong("mask-cache-budget-mb"), help: "Most memory (MiB) one catalogue's warmed token masks may take.")
    var maskCacheBudgetMB: Int?
    @Flag(name: .customLong("allow-catalogue-mismatch"),
          help: "Load an adapter whose train_info.json records another catalogue than the one it is paired with (logged as a warning).")
    var allowCatalogueMismatch = false

    func run() throws {
        // Take the stop and reload signals before any thread starts (see ServeSignals).
        // Before anything else: kernels this process chose that fail the check re-execute it here.
        let blas = OpenBLASKernels.verifyBeforeServing()
        let signals = try ServeSignals.install()
        let settings = try resolvedConfig()
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: level) }
        let logger = Logger(label: "toolrouter")
        let descriptors = DescriptorLimit.raiseSoftLimit()
        let sockets = 2 + (settings.httpSocket == nil ? 0 : 1) + (settings.httpListen == nil ? 0 : 1)
        do { try DescriptorLimit.check(maxConnections: settings.maxConnections, sockets: sockets, soft: descriptors.soft, hard: descriptors.hard) } catch {
            throw CLIError("\(error)")
        }
        let start = MonotonicClock.now()
        logBLAS(blas, logger: logger)
        let systemd = try SystemdSetup.take(logger: logger)
        systemd.watchdog.start()   // pings while loading too: nothing is queued yet
        let build = try ServingBuild.make(settings, reusing: nil, logger: logger)
        let loaded = build.catalogues
        let unknownOwners = HandlerRegistry.unknownOwnerKeys(settings.toolOwners, catalogues: loaded)
        guard unknownOwners.isEmpty else {
            throw CLIError("tool_owners names tools that no loaded catalogue has: \(unknownOwners.joined(separator: ", ")) "
                           + "(keys are \"catalogue/tool\" or a tool name)")
        }
        let worker = RouteWorker(pipeline: build.pipeline, queueDepth: settings.queueDepth)
        let registry = HandlerRegistry(catalogues: loaded, toolOwners: settings.toolOwners)
        let mcp = settings.mcpServers.isEmpty ? nil : MCPServers(configs: settings.mcpServers, logger: logger)
        let service = AgentService(worker: worker, catalogues: loaded, defaultDeadlineMs: settings.defaultDeadlineMs,
                                   handlers: registry, handlerTimeoutMs: settings.handlerTimeoutMs,
                                   maxMessageBytes: settings.maxMessageBytes, blas: blas.json, mcp: mcp, logger: logger)
        if let mcp {
            // Each server's tools become a catalogue as they are listed (and again when they change); ready
            // waits for every server's first listing, 60 s at most (a slow one joins when it is listed).
            let adapters = MCPAdapters(config: build.model.engine.model.config)
            mcp.start { [core = service.core] server, catalogue in
                do {
                    try await core.install(server.name, catalogue: catalogue, adapter: catalogue == nil ? nil : try adapters.load(server.adapter))
                } catch {
                    logger.error("mcp server: its catalogue could not be served", metadata: ["server": "\(server.name)", "error": "\(error)"])
                }
            }
            _ = try? blocking { await mcp.waitForFirstListings(timeout: 60) }
        }
        let access = AccessPolicy(allowedUIDs: settings.allowedUIDs, allowedGIDs: settings.allowedGIDs, maxConnections: settings.maxConnections,
                                  idleTimeoutMs: settings.idleTimeoutMs)
        let handlerAccess = AccessPolicy(allowedUIDs: settings.handlerAllowedUIDs, allowedGIDs: settings.handlerAllowedGIDs,
                                         maxConnections: settings.maxConnections, idleTimeoutMs: settings.idleTimeoutMs)
        let handlerListen = try systemd.listenAddress(for: "handlers", path: settings.handlerSocket, mode: settings.handlerSocketMode)
        let agentListen = try systemd.listenAddress(for: "agent", path: settings.agentSocket, mode: settings.socketMode)

        let handlerServer = try blocking { try await AgentServer.startHandlers(registry: registry, listen: handlerListen,
                                                                              maxLineBytes: settings.maxMessageBytes,
                                                                              access: handlerAccess, logger: logger) }
        let server = try blocking { try await AgentServer.start(service: service, listen: agentListen,
                                                                maxLineBytes: settings.maxMessageBytes,
                                                                access: access, logger: logger) }
        let httpServers = try startHTTP(settings, core: service.core, access: access, systemd: systemd, logger: logger)
        let lifecycle = ServeLifecycle(notifier: systemd.notifier, watchdog: systemd.watchdog, service: service, settings: settings,
                                       model: build.model, logger: logger, resolve: resolvedConfig)
        logger.notice("ready", metadata: ["load_ms": "\(Int((MonotonicClock.now() - start) * 1000))",
                                          "catalogues": "\(service.catalogues.map(\.name).joined(separator: ","))",
                                          "agent_socket": "\(agentListen)", "handler_socket": "\(handlerListen)",
                                          "http": "\(httpServers.map(\.path).joined(separator: ","))"])
        lifecycle.ready()
        build.warmMasksInBackground(logger: logger)
        let received = lifecycle.waitForStop(signals)
        lifecycle.stop(agent: server, handlers: handlerServer, http: httpServers, signal: received)
    }

    /// The HTTP servers the settings ask for: on the HTTP Unix socket (inherited or bound; the agent
    /// socket's mode and peer checks), and on TCP (no peer credentials there: loopback, or a token).
    func startHTTP(_ settings: DaemonConfig, core: RouterService, access: AccessPolicy, systemd: SystemdSetup, logger: Logger) throws -> [AgentServer] {
        let token: String?
        do { token = try settings.httpToken() } catch { throw CLIError("http_token_file: \(error)") }
        // The Unix socket has the kernel's word on who connects (mode, peer checks); TCP has only the token.
        let service = OpenAIHTTPService(core: core, token: nil, maxMessageBytes: settings.maxMessageBytes)
        let tcpService = OpenAIHTTPService(core: core, token: token, maxMessageBytes: settings.maxMessageBytes)
        var servers: [AgentServer] = []
        if settings.httpSocket != nil || systemd.sockets?.http != nil {
            let listen = try systemd.listenAddress(for: "http", path: settings.httpSocket ?? "/run/toolrouter/http.sock", mode: settings.socketMode)
            servers.append(try blocking { try await AgentServer.startHTTP(service: service, listen: listen, maxBodyBytes: settings.maxMessageBytes,
                                                                          access: access, logger: logger) })
        }
        if let address = try settings.httpTCPAddress() {
            let tcpAccess = AccessPolicy(maxConnections: settings.maxConnections, idleTimeoutMs: settings.idleTimeoutMs)
            servers.append(try blocking { try await AgentServer.startHTTP(service: tcpService, listen: .tcp(host: address.host, port: address.port),
                                                                          maxBodyBytes: settings.maxMessageBytes, access: tcpAccess, logger: logger) })
        }
        return servers
    }

    /// One line on the BLAS kernels: verified, fallen back (warning), or failing the check (error).
    func logBLAS(_ blas: OpenBLASKernels.Status, logger: Logger) {
        let metadata: Logger.Metadata = ["coretype": "\(blas.coretype ?? "default")", "selected": "\(blas.selected ?? "-")",
                                         "max_relative_error": "\(blas.probe.maxRelativeError)",
                                         "check_ms": "\(Int(blas.milliseconds))"]
        if let fallback = blas.fallback {
            logger.warning("blas: fell back to the inherited kernels", metadata: metadata.merging(["reason": "\(fallback)"]) { $1 })
        } else if let failure = blas.probe.failure {
            logger.error("blas: the kernels in use disagree with the reference", metadata: metadata.merging(["failure": "\(failure)"]) { $1 })
        } else {
            logger.info("blas: kernels verified", metadata: metadata)
        }
    }

    /// The config file (if any) with the flags applied on top, validated.
    func resolvedConfig() throws -> DaemonConfig {
        var settings: DaemonConfig
        do { settings = try config.map(DaemonConfig.load(path:)) ?? DaemonConfig() } catch { throw CLIError("\(error)") }
        var overrides = ConfigOverrides(model: model, catalogues: catalogues, adapters: adapters, agentSocket: agentSocket,
                                        handlerSocket: handlerSocket, socketMode: socketMode, allowedUIDs: allowedUIDs,
                                        allowedGIDs: allowedGIDs, queueDepth: queueDepth, defaultDeadlineMs: defaultDeadlineMs,
                                        handlerTimeoutMs: handlerTimeoutMs, maxTokens: maxTokens, maxMessageBytes: maxMessageBytes,
                                        contextTokens: contextTokens, maxConnections: maxConnections, logLevel: logLevel,
                                        idleTimeoutMs: idleTimeoutMs)
        overrides.maskCacheBudgetMB = maskCacheBudgetMB
        overrides.chatTemplate = chatTemplate
        overrides.stopTimeoutMs = stopTimeoutMs
        overrides.handlerSocketMode = handlerSocketMode
        overrides.httpSocket = httpSocket
        overrides.httpListen = httpListen
        overrides.httpTokenFile = httpTokenFile
        overrides.handlerAllowedUIDs = handlerAllowedUIDs
        overrides.handlerAllowedGIDs = handlerAllowedGIDs
        overrides.toolOwners = toolOwners
        overrides.allowCatalogueMismatch = allowCatalogueMismatch ? true : nil
        do {
            try settings.apply(overrides)
            try settings.validate()
        } catch { throw CLIError("\(error)") }
        return settings
    }
}

/// The result of async work handed back to a waiting synchronous caller (written once, then read
/// after the semaphore: no concurrent access).
private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, any Error>? }

/// Runs async work from synchronous command code and waits for it.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    guard let result = box.result else { throw CLIError("internal: async work produced no result") }
    return try result.get()
}

/// LoRA adapters of MCP servers' catalogues, loaded once per path.
final class MCPAdapters: @unchecked Sendable {
    private let config: ModelConfig
    private let lock = NSLock()
    private var loaded: [String: LoRAAdapter] = [:]

    init(config: ModelConfig) { self.config = config }

    /// The adapter at `path` (nil for none).
    func load(_ path: String?) throws -> LoRAAdapter? {
        guard let path else { return nil }
        lock.lock(); defer { lock.unlock() }
        if let adapter = loaded[path] { return adapter }
        let adapter = try LoRAAdapter.load(path: path, config: config)
        loaded[path] = adapter
        return adapter
    }
}
