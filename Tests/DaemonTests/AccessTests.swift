// Who may connect: SO_PEERCRED read and logged, allow-lists enforced, connection count capped —
// over real sockets (the handler socket, which needs no model). And the log line format.

import Foundation
import JSON
import Logging
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// Log events captured for assertions.
private final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        log.append(StderrLogHandler.format(level: event.level, label: "test", message: "\(event.message)",
                                           metadata: event.metadata ?? [:], journal: true, now: Date()))
    }
}

private func errorCode(_ line: String) throws -> Int? { try JSONParser.parse(line)["error"]?["code"]?.intValue }

private let register = #"{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":["track_order"]}}"#

extension SocketSuites {
    @Suite("Peer credentials and connection limits", .serialized)
    struct AccessTests {
        fileprivate static func start(_ access: AccessPolicy, log: CapturedLog = CapturedLog()) async throws -> AgentServer {
            let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
            let registry = HandlerRegistry(catalogues: [("support", catalogue)])
            let path = NSTemporaryDirectory() + "toolrouter-access-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            let logger = Logger(label: "test") { _ in CapturingHandler(log: log) }
            return try await AgentServer.startHandlers(registry: registry, path: path, mode: 0o600, maxLineBytes: 1 << 16,
                                                       access: access, logger: logger)
        }

        @Test("a peer outside the allow-lists is told why and disconnected; its pid, uid and gid are logged")
        func refused() async throws {
            let log = CapturedLog()
            let server = try await Self.start(AccessPolicy(allowedUIDs: [getuid() &+ 1], allowedGIDs: [getgid() &+ 1]), log: log)
            let client = try AgentClient(path: server.path)
            let line = try client.readLine(timeout: 10)
            #expect(try errorCode(line) == RPCErrorCode.forbidden.rawValue)
            #expect(line.contains("uid \(getuid())"))
            #expect(throws: ClientError.self) { _ = try client.readLine(timeout: 10) }   // closed
            #expect(log.all.contains { $0.hasPrefix("<4>") && $0.contains("pid=\(getpid())") && $0.contains("uid=\(getuid())") && $0.contains("gid=\(getgid())") })
            await server.close()
        }

        @Test("a peer in the uid list or the gid list is admitted, and logged")
        func admitted() async throws {
            for policy in [AccessPolicy(allowedUIDs: [getuid()]), AccessPolicy(allowedUIDs: [getuid() &+ 1], allowedGIDs: [getgid()]), AccessPolicy()] {
                let log = CapturedLog()
                let server = try await Self.start(policy, log: log)
                let client = try AgentClient(path: server.path)
                let reply = try JSONParser.parse(try client.request(register, timeout: 10))
                #expect(reply["result"] != nil, "\(policy)")
                #expect(log.all.contains { $0.hasPrefix("<6>") && $0.contains("connection opened") && $0.contains("pid=\(getpid())") })
                await server.close()
            }
        }

        @Test("past max_connections a connection is answered overloaded and closed; a freed slot admits the next")
        func connectionLimit() async throws {
            let server = try await Self.start(AccessPolicy(maxConnections: 2))
            let first = try AgentClient(path: server.path), second = try AgentClient(path: server.path)
            #expect(try JSONParser.parse(try first.request(register, timeout: 10))["result"] != nil)
            #expect(try JSONParser.parse(try second.request(register, timeout: 10))["result"] != nil)
            let third = try AgentClient(path: server.path)
            #expect(try errorCode(third.readLine(timeout: 10)) == RPCErrorCode.overloaded.rawValue)
            first.disconnect()
            var admitted = false
            for _ in 0..<100 where !admitted {
                try await Task.sleep(nanoseconds: 20_000_000)
                let next = try AgentClient(path: server.path)
                if let line = try? next.request(register, timeout: 10), (try? JSONParser.parse(line))?["result"] != nil { admitted = true }
            }
            #expect(admitted)
            await server.close()
        }
    }
}

@Suite("Log lines")
struct LogLineTests {
    @Test("journald lines carry the syslog priority; metadata is sorted and quoted; one event is one line")
    func format() {
        let line = StderrLogHandler.format(level: .warning, label: "toolrouter", message: "two\nlines",
                                           metadata: ["b": "x y", "a": "1", "c": ""], journal: true, now: Date())
        #expect(line == "<4>toolrouter: two\\nlines a=1 b=\"x y\" c=\"\"\n")
        let plain = StderrLogHandler.format(level: .info, label: "toolrouter", message: "ready", metadata: [:], journal: false,
                                            now: Date(timeIntervalSince1970: 0))
        #expect(plain == "1970-01-01T00:00:00.000Z info toolrouter: ready\n")
        #expect([Logger.Level.debug, .info, .notice, .warning, .error, .critical].map(StderrLogHandler.priority) == [7, 6, 5, 4, 3, 2])
    }

    @Test("allow-lists: none admits anyone; otherwise uid or gid must match; unknown peers are refused")
    func policy() {
        let peer = PeerCredentials(pid: 1, uid: 1000, gid: 100)
        #expect(AccessPolicy().allows(peer) && AccessPolicy().allows(nil))
        #expect(AccessPolicy(allowedUIDs: [1000]).allows(peer))
        #expect(!AccessPolicy(allowedUIDs: [0]).allows(peer))
        #expect(AccessPolicy(allowedUIDs: [0], allowedGIDs: [100]).allows(peer))
        #expect(!AccessPolicy(allowedGIDs: [0]).allows(peer))
        #expect(!AccessPolicy(allowedUIDs: [1000]).allows(nil))
    }
}
