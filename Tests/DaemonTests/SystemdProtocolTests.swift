// The systemd protocols in-process, no model needed: sd_notify to path and abstract sockets, the
// watchdog's health rule and timing, LISTEN_* parsing, inherited-socket checks, and a server adopting
// an inherited socket.

import Foundation
import JSON
import Logging
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// A progress counter and busy flag the test moves by hand.
private extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

private final class FakeWorker: @unchecked Sendable {
    private let lock = NSLock()
    private var busy = false
    private var progress = 0
    func set(busy: Bool) { lock.lock(); self.busy = busy; lock.unlock() }
    func step() { lock.lock(); progress += 1; lock.unlock() }
    var probe: WorkerProbe {
        WorkerProbe(isBusy: { [self] in lock.lock(); defer { lock.unlock() }; return busy },
                    progress: { [self] in lock.lock(); defer { lock.unlock() }; return progress })
    }
}

extension SocketSuites {
    @Suite("systemd protocols: sd_notify, watchdog, socket activation", .serialized)
    struct SystemdProtocolTests {
        @Test("sd_notify reaches a path socket and an abstract one; RELOADING=1 carries MONOTONIC_USEC; unset is a no-op")
        func notify() throws {
            for abstract in [false, true] {
                let listener = try NotifyListener(abstract: abstract)
                defer { listener.close() }
                let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
                #expect(notifier.isEnabled)
                try notifier.ready(status: "serving support; 0 queued")
                #expect(listener.wait(for: "READY=1", timeout: 5)?.text == "READY=1\nSTATUS=serving support; 0 queued\n")
                let before = SystemdNotifier.monotonicMicroseconds()
                try notifier.reloading(status: "two\nlines")
                let after = SystemdNotifier.monotonicMicroseconds()
                let reloading = try #require(listener.wait(for: "RELOADING=1", timeout: 5)).text.split(separator: "\n")
                let usec = try #require(reloading.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst(15)) })
                #expect(before <= usec && usec <= after)
                #expect(reloading.contains("STATUS=two lines"), "a status stays one line")
                try notifier.stopping()
                try notifier.watchdog()
                #expect(listener.wait(for: "STOPPING=1", timeout: 5) != nil && listener.wait(for: "WATCHDOG=1", timeout: 5) != nil)
            }
            let disabled = try SystemdNotifier(environment: [:])
            #expect(!disabled.isEnabled)
            try disabled.ready(status: "nobody listens")
        }

        @Test("bad NOTIFY_SOCKET values and a missing socket are typed errors")
        func notifyErrors() throws {
            for bad in ["relative/path", "@", String(repeating: "/x", count: 60)] {
                #expect(throws: SystemdNotifyError.invalidAddress(bad)) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": bad]) }
            }
            let gone = SystemdNotifier(address: .path(NSTemporaryDirectory() + "toolrouter-no-such-\(getpid()).sock"))
            let error = #expect(throws: SystemdNotifyError.self) { try gone.ready() }
            if case .send? = error {} else { Issue.record("expected a send error, got \(String(describing: error))") }
        }

        @Test("WATCHDOG_USEC and WATCHDOG_PID: for this process, for another, malformed")
        func watchdogEnvironment() throws {
            #expect(try WatchdogSettings.fromEnvironment([:]) == nil)
            #expect(try WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "3000000"])?.pingInterval == 1.5)
            #expect(try WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "\(getpid())"]) != nil)
            #expect(try WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "\(getpid() + 1)"]) == nil)
            #expect(throws: SystemdNotifyError.invalidWatchdog(variable: "WATCHDOG_USEC", value: "soon")) {
                try WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "soon"])
            }
            #expect(throws: SystemdNotifyError.invalidWatchdog(variable: "WATCHDOG_PID", value: "-4")) {
                try WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "1", "WATCHDOG_PID": "-4"])
            }
        }

        @Test("health rule: idle is healthy; busy across a whole tick needs progress")
        func progressRule() {
            var check = ProgressCheck()
            let ticks: [(busy: Bool, progress: Int, healthy: Bool, why: String)] = [
                (true, 5, true, "no history yet"), (true, 5, false, "busy and stuck"), (true, 9, true, "busy and moving"),
                (false, 9, true, "idle"), (false, 9, true, "still idle"), (true, 9, true, "just queued: one tick of grace"),
                (true, 9, false, "a request that never moved the counter"), (true, 10, true, "moving again"),
            ]
            for tick in ticks {
                let healthy = check.isHealthy(busy: tick.busy, progress: tick.progress)
                #expect(healthy == tick.healthy, "\(tick.why)")
            }
        }

        @Test("the watchdog pings every WATCHDOG_USEC/2 while the worker moves, stops while it is stuck, resumes after")
        func watchdogTiming() throws {
            let listener = try NotifyListener()
            defer { listener.close() }
            let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
            let worker = FakeWorker()
            // WATCHDOG_USEC 0.4 s: a ping is due every 0.2 s. The test drives the watchdog's own scheduling
            // code with times it chooses (the thread is never started), so what is checked is the schedule,
            // not how busy the machine is.
            let watchdog = Watchdog(notifier: notifier, settings: WatchdogSettings(timeoutMicroseconds: 400_000), statusInterval: 0.1)
            watchdog.watch(worker.probe)
            watchdog.reportStatus { "serving test" }
            var now = 100.0
            var pingTimes: [Double] = []
            /// Runs the watchdog from `now` to `until`, waking when it asks to; `work` runs before each wake.
            func run(until end: Double, work: () -> Void = {}) {
                while now <= end {
                    work()
                    let before = watchdog.pingCount
                    let next = watchdog.step(now: now)
                    if watchdog.pingCount > before { pingTimes.append(now) }
                    #expect(next > now, "the next wake is in the future")
                    now = next
                }
            }
            func gaps(after start: Double) -> [Double] {
                let times = pingTimes.filter { $0 >= start }
                return zip(times.dropFirst(), times).map { ($0 - $1).rounded(toPlaces: 6) }
            }

            // Idle: a ping every 0.2 s; the status line once.
            run(until: 101.1)
            #expect(pingTimes.count == 6, "pings at \(pingTimes)")
            #expect(gaps(after: 100).allSatisfy { $0 == 0.2 }, "gaps \(gaps(after: 100))")
            #expect(listener.wait(for: "WATCHDOG=1", count: pingTimes.count, timeout: 10) != nil)
            #expect(listener.messages(with: "STATUS=serving test").count == 1)

            // Busy and moving: still a ping every 0.2 s.
            worker.set(busy: true)
            let movingStart = now
            run(until: movingStart + 1) { worker.step() }
            #expect(pingTimes.filter { $0 >= movingStart }.count >= 4, "pings while progressing: \(pingTimes)")
            #expect(gaps(after: movingStart).allSatisfy { $0 == 0.2 }, "gaps \(gaps(after: movingStart))")
            #expect(watchdog.withheldCount == 0)

            // Stuck: at most the one tick that still saw the last step, then silence, the check repeating
            // every quarter interval (0.05 s).
            let stuckStart = now
            run(until: stuckStart + 1.2)
            #expect(pingTimes.filter { $0 >= stuckStart }.count <= 1, "pings while stuck: \(pingTimes.filter { $0 >= stuckStart })")
            #expect(watchdog.withheldCount >= 15, "withheld \(watchdog.withheldCount)")

            // Moving again: the next check (at most 0.05 s later) pings, then every 0.2 s.
            let resumeStart = now
            run(until: resumeStart + 1) { worker.step() }
            let resumed = pingTimes.filter { $0 >= resumeStart }
            #expect(resumed.count >= 5 && (resumed.first ?? 99) - resumeStart <= 0.05 + 1e-9, "pings after resuming: \(resumed)")
            #expect(listener.wait(for: "WATCHDOG=1", count: pingTimes.count, timeout: 10) != nil, "every ping reached the socket")
        }

        @Test("LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES: names, order, defaults, other processes, malformed values")
        func listenVariables() throws {
            let pid = getpid()
            func assigned(_ env: [String: String]) throws -> [String]? {
                try SocketActivation.assignments(environment: env, pid: pid)?.map { "\($0.fd)=\($0.name)" }
            }
            #expect(try assigned([:]) == nil)
            #expect(try assigned(["LISTEN_PID": "\(pid + 1)", "LISTEN_FDS": "2"]) == nil, "meant for another process")
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "0"]) == nil)
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "2"]) == ["3=agent", "4=handlers"])
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "1"]) == ["3=agent"])
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "handlers:agent"]) == ["3=handlers", "4=agent"])
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "handlers"]) == ["3=handlers"])
            #expect(throws: SocketActivationError.unknownName(fd: 4, name: "toolrouter.socket")) {
                try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "agent:toolrouter.socket"])
            }
            #expect(throws: SocketActivationError.duplicateName("agent")) {
                try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "agent:agent"])
            }
            #expect(throws: SocketActivationError.namesMismatch(count: 2, names: "agent")) {
                try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "agent"])
            }
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "3"]) == ["3=agent", "4=handlers", "5=http"])
            #expect(try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "3", "LISTEN_FDNAMES": "http:agent:handlers"]) == ["3=http", "4=agent", "5=handlers"])
            #expect(throws: SocketActivationError.tooManySockets(4)) { try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "4"]) }
            #expect(throws: SocketActivationError.invalidVariable(name: "LISTEN_FDS", value: "two")) {
                try assigned(["LISTEN_PID": "\(pid)", "LISTEN_FDS": "two"])
            }
            #expect(throws: SocketActivationError.invalidVariable(name: "LISTEN_PID", value: "me")) { try assigned(["LISTEN_PID": "me"]) }
        }

        @Test("taking sockets removes the LISTEN_* variables, even when there is nothing to take")
        func unsetsEnvironment() throws {
            setenv("LISTEN_PID", "\(getpid())", 1)
            setenv("LISTEN_FDS", "0", 1)
            setenv("LISTEN_FDNAMES", "", 1)
            #expect(try SocketActivation.take() == nil)
            for name in SocketActivation.variables { #expect(getenv(name) == nil, "\(name) is still set") }
        }

        @Test("only a listening AF_UNIX stream socket is accepted")
        func socketChecks() throws {
            let dir = try temporaryDirectory("activation")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let good = try unixSocket(path: dir + "/good.sock")
            defer { close(good) }
            try SocketActivation.checkListeningUnixStream(good, name: "agent")
            #expect(SocketActivation.boundPath(of: good) == dir + "/good.sock")

            func reason(_ fd: Int32) -> String? {
                do { try SocketActivation.checkListeningUnixStream(fd, name: "agent"); return nil } catch {
                    guard case .unusableSocket(_, _, let reason) = error else { return "\(error)" }
                    return reason
                }
            }
            let idle = try unixSocket(path: dir + "/idle.sock", listen: false)
            defer { close(idle) }
            #expect(reason(idle)?.hasPrefix("not listening") == true)
            let datagram = try unixSocket(path: dir + "/dgram.sock", type: Int32(SOCK_DGRAM.rawValue), listen: false)
            defer { close(datagram) }
            #expect(reason(datagram)?.hasPrefix("not a stream socket") == true)
            var pipeFDs: [Int32] = [-1, -1]
            #expect(pipe(&pipeFDs) == 0)
            defer { close(pipeFDs[0]); close(pipeFDs[1]) }
            #expect(reason(pipeFDs[0]) == "not a socket")
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(tcp) }
            var loopback = sockaddr_in()
            loopback.sin_family = sa_family_t(AF_INET)
            loopback.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &loopback) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            listen(tcp, 1)
            #expect(reason(tcp)?.hasPrefix("not an AF_UNIX socket") == true)
            #expect(reason(9999)?.hasPrefix("not an open descriptor") == true)
        }

        @Test("a server adopts an inherited listening socket, serves on it, and leaves its file in place on close")
        func adoptsInheritedSocket() async throws {
            let dir = try temporaryDirectory("adopt")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/handlers.sock"
            let fd = try unixSocket(path: path)
            let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
            let registry = HandlerRegistry(catalogues: [("support", catalogue)])
            let server = try await AgentServer.startHandlers(registry: registry, listen: .inherited(InheritedSocket(fd: fd, name: "handlers", path: path)),
                                                             maxLineBytes: 65536)
            #expect(!server.ownsPath)
            // A short blocking exchange (the server runs on its own event loop thread, not on this pool).
            let client = try AgentClient(path: path)
            let reply = try client.request("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"register\",\"params\":{\"catalogue\":\"support\",\"tools\":[\"track_order\"]}}",
                                           timeout: 30)
            #expect(try JSONParser.parse(reply)["result"]?["registered"] == .array([.string("track_order")]))
            #expect(registry.replaceCatalogues([]) == 1, "a reload without the catalogue takes its tools offline")
            #expect(registry.onlineTools.isEmpty)
            client.disconnect()
            await server.close()
            var info = stat()
            #expect(lstat(path, &info) == 0, "the socket file belongs to the service manager")
        }
    }
}
