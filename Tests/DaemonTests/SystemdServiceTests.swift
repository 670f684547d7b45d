// `toolrouter serve` run the way systemd runs it: the test binds the notification socket and the two
// listening sockets itself and starts the daemon with them as descriptors 3 and 4 (LISTEN_PID set to the
// daemon's own pid by a small wrapper that also turns on the kernel's MemoryDenyWriteExecute, as the
// unit does), then checks readiness, watchdog pings, reload and stop — idle and under steady load, with
// good and broken configurations.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// Sets LISTEN_PID to its own pid, turns on PR_SET_MDWE (what MemoryDenyWriteExecute=yes amounts to on
/// Linux 6.3+), and execs the daemon in place — the pid systemd would have passed.
private let wrapperScript = """
import ctypes, os, sys
mdwe = ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) == 0
sys.stderr.write("wrapper: mdwe=%d\\n" % mdwe)
sys.stderr.flush()
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
"""

/// `toolrouter serve` with inherited sockets, a notification socket and a watchdog.
private final class ManagedDaemon {
    let dir: String
    let notify: NotifyListener
    let agentPath: String
    let handlerPath: String
    let httpPath: String
    let child: ChildProcess
    private let listeners: [Int32]   // kept open, as systemd keeps its copies

    /// Starts the daemon with `arguments` after `serve`; the sockets are passed handlers-first (names
    /// decide, not order) and the paths in flags point where nothing may be created.
    init(dir: String, arguments: [String], watchdogUsec: Int = 2_000_000) throws {
        self.dir = dir
        notify = try NotifyListener()
        agentPath = dir + "/agent.sock"
        handlerPath = dir + "/handlers.sock"
        httpPath = dir + "/http.sock"
        let agent = try unixSocket(path: agentPath)
        let handlers = try unixSocket(path: handlerPath)
        let http = try unixSocket(path: httpPath)
        listeners = [handlers, agent, http]
        child = try ChildProcess("/usr/bin/env", ["python3", "-c", wrapperScript, try TestPaths.toolrouterBinary(), "serve"] + arguments + [
            "--agent-socket", dir + "/unused/agent.sock", "--handler-socket", dir + "/unused/handlers.sock",
        ], environment: ["NOTIFY_SOCKET": notify.address, "LISTEN_FDS": "3", "LISTEN_FDNAMES": "handlers:agent:http",
                         "WATCHDOG_USEC": "\(watchdogUsec)"], inheritedFDs: listeners, log: "systemd")
    }

    deinit {
        child.stop(signal: SIGKILL)
        listeners.forEach { close($0) }
        notify.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The READY=1 that ends start-up.
    func waitReady() throws -> String {
        guard let ready = notify.wait(for: "READY=1", timeout: 300) else {
            throw TestSocketError("no READY=1; daemon output:\n\(child.output)")
        }
        return ready.text
    }

    func connect() throws -> AgentClient { try AgentClient(path: agentPath) }
}

/// Sends one request and parses the answer.
private func send(_ client: AgentClient, _ method: String, _ params: JSONValue? = nil, id: Int = 1) throws -> JSONValue {
    var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(id))), ("method", .string(method))]
    if let params { members.append(("params", params)) }
    return try JSONParser.parse(try client.request(JSONWriter.compact(.object(members)), timeout: 120))
}

private func routeParams(_ catalogue: String, _ input: String, tool: String? = nil) -> JSONValue {
    .object([("catalogue", .string(catalogue)), ("input", .string(input))] + (tool.map { [("tool_choice", .string($0))] } ?? []))
}

/// Clients on their own threads, each sending `route` requests one after another until stopped, and
/// recording every answer.
private final class SteadyLoad: @unchecked Sendable {
    struct Answer { let time: Double; let error: Int? }
    private let lock = NSLock()
    private var answers: [Answer] = []
    private var failures: [String] = []
    private var sent = 0
    private var stopping = false
    private let done = DispatchGroup()
    private static let requests = [("support", "Where is my order ORD-55821?"), ("devops", "Is payments-api up right now?"),
                                   ("support", "Refund ORD-1234 please, it broke."), ("devops", "Scale web-frontend to 12 replicas.")]

    init(path: String, clients: Int, catalogues: [String]) {
        let requests = Self.requests.filter { catalogues.contains($0.0) }
        for index in 0..<clients {
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                let client: AgentClient
                do { client = try AgentClient(path: path) } catch { record(failure: "connect: \(error)"); return }
                var n = index
                while !isStopping {
                    let (catalogue, input) = requests[n % requests.count]
                    n += 1
                    lock.lock(); sent += 1; lock.unlock()
                    do {
                        let reply = try send(client, "route", routeParams(catalogue, input), id: n)
                        lock.lock(); answers.append(Answer(time: NotifyListener.now(), error: reply["error"]?["code"]?.intValue)); lock.unlock()
                    } catch {
                        record(failure: "request \(n): \(error)")
                        return
                    }
                }
            }
            thread.start()
        }
    }

    private var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }
    private func record(failure: String) { lock.lock(); failures.append(failure); lock.unlock() }

    /// Lets each client finish its request in flight, then waits for them.
    func stop(timeout: Double = 300) -> Bool {
        lock.lock(); stopping = true; lock.unlock()
        return done.wait(timeout: .now() + timeout) == .success
    }

    var snapshot: (sent: Int, answers: [Answer], failures: [String]) { lock.lock(); defer { lock.unlock() }; return (sent, answers, failures) }

    /// Waits until `count` answers have arrived.
    func wait(answers count: Int, timeout: Double = 300) {
        let end = Date().addingTimeInterval(timeout)
        while snapshot.answers.count < count && Date() < end { usleep(20_000) }
    }
}

/// The `flags:` of `fd` in `pid`'s /proc fdinfo.
private func descriptorFlags(pid: pid_t, fd: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }) else { return nil }
    return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
}

private let examples = TestPaths.packageRoot.appendingPathComponent("examples/catalogues").path

extension SocketSuites {
    @Suite("systemd: serve under a service manager", .serialized)
    struct SystemdServiceTests {
        @Test("inherited sockets, READY=1 with status, watchdog on time, SIGHUP → RELOADING=1 + MONOTONIC_USEC → READY=1, SIGTERM → STOPPING=1 and exit 0")
        func lifecycle() throws {
            let daemon = try ManagedDaemon(dir: try temporaryDirectory("systemd"), arguments: [
                "--model", try TestPaths.requireModel(),
                "--catalogue", "support=\(examples)/support.tools.json", "--catalogue", "devops=\(examples)/devops.tools.json",
            ])
            let ready = try daemon.waitReady()
            let readyTime = NotifyListener.now()
            #expect(ready.contains("STATUS=serving support, devops; 0 queued\n"), "\(ready)")
            #expect(daemon.child.output.contains("wrapper: mdwe=1"), "the daemon runs with MemoryDenyWriteExecute")
            #expect(!FileManager.default.fileExists(atPath: daemon.dir + "/unused"), "the configured paths are not bound")
            for fd: Int32 in [3, 4, 5] {
                #expect((descriptorFlags(pid: daemon.child.pid, fd: fd) ?? 0) & Int(O_CLOEXEC) != 0, "fd \(fd) is close-on-exec")
            }

            // Requests on the inherited agent socket; a handler on the inherited handlers' socket.
            let client = try daemon.connect()
            let routed = try send(client, "route", routeParams("devops", "Restart the checkout service, skip draining.", tool: "restart_service"))
            #expect(routed["result"]?["call"]?["tool"]?.stringValue == "restart_service", "\(JSONWriter.compact(routed))")
            let handlers = try ChildProcess(try TestPaths.toolrouterBinary(), ["demo-handlers", "--handler-socket", daemon.handlerPath], log: "handlers")
            defer { handlers.stop() }
            for _ in 0..<200 {
                if (try send(client, "health")["result"]?["handlers"]?["devops"]?.objectMembers?.count ?? 0) == 6 { break }
                usleep(50_000)
            }
            let called = try send(client, "call", .object([("catalogue", .string("devops")), ("input", .string("Scale web-frontend to 12 replicas.")),
                                                           ("tool_choice", .string("scale_deployment"))]))
            #expect(called["result"]?["result"]?["scaled"] == .bool(true), "\(JSONWriter.compact(called))")
            // OpenAI-style HTTP on the inherited socket named "http" (curl as the client).
            let curl = try ChildProcess("/usr/bin/curl", ["-sS", "--unix-socket", daemon.httpPath, "http://toolrouter/v1/chat/completions",
                                                          "-H", "content-type: application/json", "-d",
                                                          #"{"model":"devops","messages":[{"role":"user","content":"Restart the checkout service."}],"tool_choice":{"type":"function","function":{"name":"restart_service"}}}"#],
                                        log: "curl")
            #expect(curl.wait(timeout: 120) == 0, "\(curl.output)")
            #expect(curl.output.contains(#""finish_reason":"tool_calls""#) && curl.output.contains(#""name":"restart_service""#), "\(curl.output)")

            // Watchdog: WATCHDOG_USEC is 2 s, so a ping at least every 2 s (they are sent every 1 s).
            let earlier = daemon.notify.messages(with: "WATCHDOG=1").filter { $0.time <= readyTime }.count
            #expect(daemon.notify.wait(for: "WATCHDOG=1", count: earlier + 4, timeout: 30) != nil, "four pings after READY=1")
            let pings = daemon.notify.messages(with: "WATCHDOG=1").map(\.time)
            let sinceReady = [readyTime] + pings.filter { $0 > readyTime }.prefix(4)
            let gaps = zip(sinceReady.dropFirst(), sinceReady).map { $0 - $1 }
            #expect(pings.filter { $0 > readyTime }.count >= 3, "pings: \(pings.count)")
            #expect((gaps.max() ?? 99) <= 2.0, "largest gap between pings: \(gaps.max() ?? 0) s")

            // Reload.
            let before = SystemdNotifier.monotonicMicroseconds()
            daemon.child.send(SIGHUP)
            let reloading = try #require(daemon.notify.wait(for: "RELOADING=1", timeout: 120), "no RELOADING=1: \(daemon.child.output)")
            let reloaded = try #require(daemon.notify.wait(for: "READY=1", count: 2, timeout: 120), "no READY=1 after the reload")
            let usec = reloading.text.split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst(15)) }
            #expect(usec.map { $0 >= before && $0 <= SystemdNotifier.monotonicMicroseconds() } == true, "\(reloading.text)")
            #expect(reloaded.time >= reloading.time)
            #expect(reloaded.text.contains("STATUS=serving support, devops; 0 queued"), "\(reloaded.text)")
            #expect(try send(client, "route", routeParams("support", "Where is my order ORD-55821?"))["result"]?["call"] != nil)

            // Stop.
            client.disconnect()
            daemon.child.send(SIGTERM)
            let code = daemon.child.wait(timeout: 90)
            #expect(code == 0, "exit code \(String(describing: code)): \(daemon.child.output)")
            #expect(daemon.notify.wait(for: "STOPPING=1", timeout: 5) != nil)
            #expect(FileManager.default.fileExists(atPath: daemon.agentPath), "the service manager's socket file stays")
        }

        @Test("under steady load from concurrent clients: a reload fails no request; SIGTERM answers every accepted request, then exits 0")
        func reloadAndStopUnderLoad() throws {
            let daemon = try ManagedDaemon(dir: try temporaryDirectory("systemd-load"), arguments: [
                "--model", try TestPaths.requireModel(),
                "--catalogue", "support=\(examples)/support.tools.json", "--catalogue", "devops=\(examples)/devops.tools.json",
            ])
            _ = try daemon.waitReady()
            let load = SteadyLoad(path: daemon.agentPath, clients: 3, catalogues: ["support", "devops"])
            load.wait(answers: 6)

            daemon.child.send(SIGHUP)
            let reloaded = try #require(daemon.notify.wait(for: "READY=1", count: 2, timeout: 120), "no READY=1 after the reload")
            #expect(daemon.notify.messages(with: "RELOADING=1").count == 1)
            let countAtReload = load.snapshot.answers.count
            load.wait(answers: countAtReload + 6)
            let midway = load.snapshot
            #expect(midway.failures.isEmpty, "\(midway.failures)")
            #expect(midway.answers.allSatisfy { $0.error == nil }, "errors: \(midway.answers.compactMap(\.error))")
            #expect(midway.answers.contains { $0.time > reloaded.time }, "requests were answered after the reload")

            // Stop while the clients keep sending: every request sent gets an answer (a result, or
            // `shutting down` for one that arrived after the stop began), none is cut off.
            daemon.child.send(SIGTERM)
            let finished = load.stop()
            let code = daemon.child.wait(timeout: 120)
            let final = load.snapshot
            #expect(finished, "clients still waiting for answers")
            #expect(final.failures.isEmpty, "\(final.failures)")
            #expect(final.answers.count == final.sent, "sent \(final.sent), answered \(final.answers.count)")
            #expect(final.answers.allSatisfy { $0.error == nil || $0.error == RPCErrorCode.shuttingDown.rawValue },
                    "errors: \(final.answers.compactMap(\.error))")
            #expect(code == 0, "exit code \(String(describing: code)): \(daemon.child.output)")
            #expect(daemon.notify.messages(with: "STOPPING=1").count == 1)
        }

        @Test("a reload with a broken config keeps the old one serving and says why; a good one switches catalogues")
        func brokenConfigReload() throws {
            let dir = try temporaryDirectory("systemd-config")
            let configPath = dir + "/toolrouter.json"
            let model = try TestPaths.requireModel()
            func writeConfig(_ catalogues: [String]) throws {
                let entries = catalogues.map { "{\"name\": \"\($0)\", \"file\": \"\(examples)/\($0).tools.json\"}" }.joined(separator: ", ")
                try "{\"model\": \"\(model)\", \"catalogues\": [\(entries)]}".write(toFile: configPath, atomically: true, encoding: .utf8)
            }
            try writeConfig(["support"])
            let daemon = try ManagedDaemon(dir: dir, arguments: ["--config", configPath])
            #expect(try daemon.waitReady().contains("STATUS=serving support; 0 queued"))
            let load = SteadyLoad(path: daemon.agentPath, clients: 2, catalogues: ["support"])
            load.wait(answers: 3)

            // Not JSON; then valid JSON naming a catalogue file that is not a catalogue.
            let bogus = dir + "/bogus.tools.json"
            try "{\"tools\": 7}".write(toFile: bogus, atomically: true, encoding: .utf8)
            let broken = ["{\"model\": \"\(model)\", \"catalogues\": [", "{\"model\": \"\(model)\", \"catalogues\": [{\"name\": \"support\", \"file\": \"\(bogus)\"}]}"]
            for (index, text) in broken.enumerated() {
                try text.write(toFile: configPath, atomically: true, encoding: .utf8)
                daemon.child.send(SIGHUP)
                let ready = try #require(daemon.notify.wait(for: "READY=1", count: index + 2, timeout: 120), "no READY=1 after a failed reload")
                #expect(ready.text.contains("STATUS=serving support; ") && ready.text.contains("reload failed, still serving the previous configuration"),
                        "\(ready.text)")
            }
            let log = daemon.child.output
            #expect(log.contains("reload failed; still serving the previous configuration"))
            #expect(log.contains(configPath), "the log names the file that failed to parse")
            #expect(log.contains(bogus), "the log names the catalogue that failed to load")
            let client = try daemon.connect()
            #expect(try send(client, "route", routeParams("support", "Where is my order ORD-55821?"))["result"]?["call"] != nil)

            // A good config: devops joins, the status line and tools/list follow.
            try writeConfig(["support", "devops"])
            daemon.child.send(SIGHUP)
            let ready = try #require(daemon.notify.wait(for: "READY=1", count: 4, timeout: 120))
            #expect(ready.text.contains("STATUS=serving support, devops; "), "\(ready.text)")
            #expect(!ready.text.contains("reload failed"))
            #expect(try send(client, "tools/list")["result"]?["devops"]?.arrayValue?.count == 6)
            let devops = try send(client, "route", routeParams("devops", "Restart the checkout service, skip draining.", tool: "restart_service"))
            #expect(devops["result"]?["call"]?["tool"]?.stringValue == "restart_service", "\(JSONWriter.compact(devops))")

            #expect(load.stop())
            let final = load.snapshot
            #expect(final.failures.isEmpty, "\(final.failures)")
            #expect(final.answers.count == final.sent && final.answers.allSatisfy { $0.error == nil }, "errors: \(final.answers.compactMap(\.error))")
            client.disconnect()
            daemon.child.send(SIGTERM)
            #expect(daemon.child.wait(timeout: 90) == 0)
        }
    }
}
