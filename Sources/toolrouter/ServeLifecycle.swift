// `serve` under a service manager: readiness, status lines, the watchdog, reload on SIGHUP, and a stop
// on SIGTERM/SIGINT that answers every accepted request.
//
// systemd 252 (Debian 12) has no `Type=notify-reload`: the unit is `Type=notify` with
// `ExecReload=/bin/kill -HUP $MAINPID`, and the daemon itself sends RELOADING=1 (with MONOTONIC_USEC=)
// when a reload starts and READY=1 when it is over, whether or not the new settings could be used.

import Daemon
import Dispatch
import Foundation
import JSON
import Logging
import Router
import Synchronization

/// SIGINT, SIGTERM and SIGHUP, turned into bytes on a pipe that the main thread reads.
///
/// `sigwait` alone is not enough: OpenBLAS starts its threads when the library loads, before `main`, with
/// nothing blocked, and a signal the kernel hands to one of them while the main thread is busy (loading,
/// reloading, stopping) would take its default action and end the process. So every thread gets a
/// handler that only writes the signal's number to a pipe; the daemon's own threads keep the signals
/// blocked (they inherit the mask from the main thread), and one small thread leaves them unblocked, so
/// that some thread always takes them, whichever other threads exist.
struct ServeSignals {
    private let readFD: Int32

    /// The write end of the pipe, read by the handler (set once, before any handler is installed).
    nonisolated(unsafe) static var writeFD: Int32 = -1

    /// Installs the handlers and the catching thread; call it first, before any other thread starts.
    static func install() throws -> ServeSignals {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw CLIError("cannot create the signal pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)   // the handler never blocks writing
        writeFD = fds[1]
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            sigaddset(&set, signal)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(ServeSignals.writeFD, &byte, 1)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            guard sigaction(signal, &action, nil) == 0 else { throw CLIError("cannot handle signal \(signal): \(String(cString: strerror(errno)))") }
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let blocked = set
        let catcher = Thread {
            var unblock = blocked
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            while true { pause() }
        }
        catcher.name = "toolrouter-signals"
        catcher.start()
        return ServeSignals(readFD: fds[0])
    }

    /// Waits for one of the signals and returns it.
    func wait() -> Int32 {
        var byte: UInt8 = 0
        while true {
            let count = read(readFD, &byte, 1)
            if count == 1 { return Int32(byte) }
            if count < 0 && errno == EINTR { continue }
            return SIGTERM   // the pipe failed: stop rather than serve without a way to be stopped
        }
    }
}

/// Words around the serving line of STATUS=, shared with the watchdog thread.
private final class StatusNote: Sendable {
    let value = Mutex<(prefix: String?, suffix: String?)>((nil, nil))
}

/// The daemon's life after start-up: tells systemd how it is doing, reloads on SIGHUP, stops on
/// SIGTERM/SIGINT. Runs on the main thread.
final class ServeLifecycle {
    /// Settings that a reload applies: everything the request pipeline is built from.
    static let reloadableKeys: Set<String> = ["model", "catalogues", "max_tokens", "context_tokens", "mask_cache_budget_mb", "stop_timeout_ms",
                                              "allow_catalogue_mismatch"]

    private let notifier: SystemdNotifier
    private let watchdog: Watchdog
    private let service: AgentService
    private let logger: Logger
    private let resolve: () throws -> DaemonConfig
    /// The settings in effect (those needing a restart keep their start-up values).
    private var settings: DaemonConfig
    private var model: LoadedModel
    /// A note shown in STATUS= before or after the serving line ("reloading", the last reload's failure).
    private let note = StatusNote()

    init(notifier: SystemdNotifier, watchdog: Watchdog, service: AgentService, settings: DaemonConfig, model: LoadedModel,
         logger: Logger, resolve: @escaping () throws -> DaemonConfig) {
        self.notifier = notifier
        self.watchdog = watchdog
        self.service = service
        self.settings = settings
        self.model = model
        self.logger = logger
        self.resolve = resolve
        let note = self.note
        watchdog.reportStatus { [service] in
            let serving = "serving \(service.catalogues.map(\.name).joined(separator: ", ")); \(service.worker.queuedCount) queued"
            let (prefix, suffix) = note.value.withLock { $0 }
            return [prefix, serving, suffix].compactMap { $0 }.joined(separator: "; ")
        }
        watchdog.watch(.worker(service.worker))
    }

    /// READY=1 with the status line: the model is loaded, every catalogue prepared, both sockets listen.
    func ready() {
        send { () throws(SystemdNotifyError) in try notifier.ready(status: watchdog.currentStatus()) }
    }

    /// Serves until SIGTERM or SIGINT, reloading at each SIGHUP; returns the stop signal.
    func waitForStop(_ signals: ServeSignals) -> Int32 {
        while true {
            let signal = signals.wait()
            guard signal == SIGHUP else { return signal }
            reload()
        }
    }

    /// Re-reads the config file and flags and switches to a pipeline built from them; on any problem
    /// the old settings keep serving and the reason is logged and shown in STATUS=.
    func reload() {
        let start = Date()
        note.value.withLock { $0 = ("reloading", nil) }
        send { () throws(SystemdNotifyError) in try notifier.reloading(status: watchdog.currentStatus()) }
        logger.notice("reload: reading the configuration")
        do {
            let requested = try resolve()
            let restartOnly = Self.changedKeys(settings, requested).filter { !Self.reloadableKeys.contains($0) }
            if !restartOnly.isEmpty {
                logger.warning("reload: these settings take effect only at the next restart",
                               metadata: ["settings": "\(restartOnly.joined(separator: ","))"])
            }
            if restartOnly.contains("agent_socket") || restartOnly.contains("handler_socket") {
                logger.warning("reload: a socket path changed; the sockets stay where they are until the service is restarted")
            }
            let build = try ServingBuild.make(requested, reusing: model, logger: logger)
            // The MCP servers' catalogues as last listed join the new pipeline (the servers keep running).
            var catalogues = build.catalogues
            if let mcp = service.core.mcp {
                let adapters = MCPAdapters(config: build.model.engine.model.config)
                for (name, catalogue) in mcp.catalogues {
                    let adapter = try adapters.load(mcp.configs.first { $0.name == name }?.adapter)
                    try build.pipeline.load(name: name, catalogue: catalogue, adapter: adapter)
                    catalogues.append((name, catalogue))
                }
            }
            service.reload(pipeline: build.pipeline, catalogues: catalogues)
            build.warmMasksInBackground(logger: logger)
            model = build.model
            var effective = settings
            effective.model = requested.model
            effective.catalogues = requested.catalogues
            effective.maxTokens = requested.maxTokens
            effective.contextTokens = requested.contextTokens
            effective.maskCacheBudgetMB = requested.maskCacheBudgetMB
            effective.stopTimeoutMs = requested.stopTimeoutMs
            effective.allowCatalogueMismatch = requested.allowCatalogueMismatch
            settings = effective
            note.value.withLock { $0 = (nil, nil) }
            logger.notice("reloaded", metadata: ["catalogues": "\(catalogues.map(\.name).joined(separator: ","))",
                                                 "reload_ms": "\(Int(Date().timeIntervalSince(start) * 1000))"])
        } catch {
            let reason = "\(error)"
            note.value.withLock { $0 = (nil, "reload failed, still serving the previous configuration: \(reason)") }
            logger.error("reload failed; still serving the previous configuration", metadata: ["error": "\(reason)"])
        }
        send { () throws(SystemdNotifyError) in try notifier.ready(status: watchdog.currentStatus()) }
    }

    /// Stops: STOPPING=1, no new connections, queued requests finished and every read request answered,
    /// all within `stop_timeout_ms` (below systemd's TimeoutStopSec): at that deadline the requests still
    /// queued or decoding, and the calls still waiting on a handler, are answered `shutting_down`. Then
    /// the sockets close.
    func stop(agent: AgentServer, handlers: AgentServer, http: [AgentServer] = [], signal: Int32) {
        let timeout = Double(settings.stopTimeoutMs) / 1000
        service.stopDeadline.begin(seconds: timeout)
        let queued = service.worker.queuedCount
        note.value.withLock { $0 = ("stopping: finishing accepted requests", nil) }
        send { () throws(SystemdNotifyError) in try notifier.stopping(status: watchdog.currentStatus()) }
        logger.notice("stopping: no new connections, finishing accepted requests",
                      metadata: ["signal": "\(signal)", "queued": "\(queued)", "stop_timeout_ms": "\(settings.stopTimeoutMs)"])
        _ = try? blocking { await agent.stopAccepting() }
        for server in http { _ = try? blocking { await server.stopAccepting() } }
        let cut = service.worker.drain(timeout: service.stopDeadline.remaining ?? timeout)
        if cut > 0 { logger.warning("stop deadline passed: requests answered shutting_down", metadata: ["requests": "\(cut)"]) }
        // Calls waiting on a handler are answered at the deadline; a moment more lets those answers be written.
        let answerTimeout = (service.stopDeadline.remaining ?? 0) + 1
        var unanswered = (try? blocking { await agent.waitForRequests(timeout: answerTimeout) }) ?? 0
        for server in http { unanswered += (try? blocking { await server.waitForRequests(timeout: answerTimeout) }) ?? 0 }
        if unanswered > 0 { logger.warning("stopping with requests unanswered", metadata: ["requests": "\(unanswered)"]) }
        _ = try? blocking { await agent.close() }
        for server in http { _ = try? blocking { await server.close() } }
        service.core.mcp?.stop()
        _ = try? blocking { await handlers.close() }
        watchdog.stop()
        logger.notice("stopped")
    }

    /// Sends a notification; a failure is logged, never fatal (systemd may be gone while we stop).
    private func send(_ message: () throws(SystemdNotifyError) -> Void) {
        do throws(SystemdNotifyError) { try message() } catch {
            logger.warning("systemd notification failed", metadata: ["error": "\(error)"])
        }
    }

    /// The config-file keys whose values differ between `old` and `new`.
    static func changedKeys(_ old: DaemonConfig, _ new: DaemonConfig) -> [String] {
        guard let before = old.json.objectMembers, let after = new.json.objectMembers else { return [] }
        let values = Dictionary(after.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        return before.compactMap { member in values[member.key] == member.value ? nil : member.key }
    }
}

/// What the service manager handed over: the notification socket, the watchdog, inherited sockets.
/// Without systemd: notifications off, no watchdog, both sockets bound by path.
struct SystemdSetup {
    let notifier: SystemdNotifier
    let watchdog: Watchdog
    let sockets: SocketActivation?
    let logger: Logger

    /// Reads NOTIFY_SOCKET, WATCHDOG_USEC/WATCHDOG_PID and LISTEN_* (taking the sockets and removing the
    /// LISTEN_* variables); a malformed value is a start-up error.
    static func take(logger: Logger) throws -> SystemdSetup {
        let notifier: SystemdNotifier, watchdogSettings: WatchdogSettings?, sockets: SocketActivation?
        do { notifier = try SystemdNotifier() } catch { throw CLIError("\(error)") }
        do { watchdogSettings = try WatchdogSettings.fromEnvironment() } catch { throw CLIError("\(error)") }
        do { sockets = try SocketActivation.take() } catch { throw CLIError("\(error)") }
        if notifier.isEnabled {
            logger.info("systemd notifications on", metadata: ["notify_socket": "\(notifier.address.map { "\($0)" } ?? "-")",
                                                            "watchdog_s": "\(watchdogSettings.map { "\($0.pingInterval * 2)" } ?? "off")"])
        }
        let watchdog = Watchdog(notifier: notifier, settings: watchdogSettings, logger: logger)
        do throws(SystemdNotifyError) { try notifier.status("loading the model and catalogues") } catch {
            logger.warning("systemd notification failed", metadata: ["error": "\(error)"])
        }
        return SystemdSetup(notifier: notifier, watchdog: watchdog, sockets: sockets, logger: logger)
    }

    /// The inherited socket named `name` (`agent` or `handlers`) if systemd passed one — the configured
    /// path is then not used — else `path` to bind, its directory created.
    func listenAddress(for name: String, path: String, mode: UInt32) throws -> ListenAddress {
        let inherited: InheritedSocket?
        switch name {
        case "agent": inherited = sockets?.agent
        case "handlers": inherited = sockets?.handlers
        default: inherited = sockets?.http
        }
        if let socket = inherited {
            if socket.path != path {
                logger.notice("socket from the service manager; the configured path is not used",
                              metadata: ["socket": "\(name)", "listening": "\(socket)", "configured": "\(path)"])
            }
            return .inherited(socket)
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return .path(path, mode: mode)
    }
}
