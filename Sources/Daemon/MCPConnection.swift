// One running MCP tool server: the child process and MCP's stdio transport to it — newline-delimited
// JSON-RPC 2.0 on its stdin and stdout, its stderr a log stream (MCP, "Transports": stdio).
//
// A thread reads stdout: answers complete the request with their id; the server's notifications go to
// `onNotification`; the server's own requests are answered (`ping` with an empty result, anything else
// "method not found": ToolRouter offers the server no client capabilities). Another thread turns stderr
// lines into log lines. When stdout ends (the server exited or closed it), every pending request fails
// at once with `exited`, the child is reaped, and `onExit` runs once with its status.

import Foundation
import JSON
import Logging
import ProcessSpawn
import Synchronization

/// Why a request to an MCP server failed.
public enum MCPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server is not running (not started yet, exited, restarting).
    case notRunning(server: String)
    /// The server exited (or closed its stdout) while the request was waiting.
    case exited(server: String)
    /// No answer in time.
    case timedOut(server: String, method: String, ms: Int)
    /// The server answered with a JSON-RPC error.
    case rpc(server: String, code: Int, message: String)
    /// The server's process could not be started.
    case spawn(server: String, reason: String)
    /// The server answered something that breaks the protocol.
    case protocolError(server: String, detail: String)

    public var description: String {
        switch self {
        case .notRunning(let server): return "MCP server '\(server)' is not running"
        case .exited(let server): return "MCP server '\(server)' exited before it answered"
        case .timedOut(let server, let method, let ms): return "MCP server '\(server)' did not answer \(method) within \(ms) ms"
        case .rpc(let server, let code, let message): return "MCP server '\(server)' answered error \(code): \(message)"
        case .spawn(let server, let reason): return "MCP server '\(server)' could not be started: \(reason)"
        case .protocolError(let server, let detail): return "MCP server '\(server)' broke the protocol: \(detail)"
        }
    }
}

/// The process of one MCP server and the JSON-RPC exchange with it. Thread-safe.
final class MCPConnection: Sendable {
    /// The server's configured name.
    let name: String
    /// Its process id.
    let pid: pid_t
    private let stdinFD: Int32
    private let state = Mutex(State())
    /// Held while a line is written, so lines never interleave (apart from `state`: a server that stops
    /// reading its stdin blocks a writer, never the reader thread that completes requests).
    private let writing = Mutex(())
    /// Set once the process has exited and been reaped.
    private let reaped = Atomic<Bool>(false)
    private let logger: Logger

    private struct State {
        var nextID = 1
        var pending: [Int: @Sendable (Result<JSONValue, MCPError>) -> Void] = [:]
        var closed = false
    }

    /// The longest line accepted from the server (a larger one breaks the connection).
    static let maxLineBytes = 16 << 20

    private init(name: String, pid: pid_t, stdinFD: Int32, logger: Logger) {
        self.name = name
        self.pid = pid
        self.stdinFD = stdinFD
        self.logger = logger
    }

    /// Starts `command args` with `environment` added to the daemon's, and its reader threads.
    static func start(name: String, command: String, arguments: [String], environment: [String: String], logger: Logger,
                      onNotification: @escaping @Sendable (String, JSONValue?) -> Void,
                      onExit: @escaping @Sendable (Int32) -> Void) throws(MCPError) -> MCPConnection {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let child: SpawnedChild
        do { child = try Spawn.start(command, arguments, environment: env, pipeStdin: true, captureStdout: true, captureStderr: true) } catch {
            throw .spawn(server: name, reason: error.reason)
        }
        guard let stdin = child.stdin, let stdout = child.stdout, let stderr = child.stderr else {
            throw .spawn(server: name, reason: "the pipes were not created")
        }
        let connection = MCPConnection(name: name, pid: child.pid, stdinFD: stdin, logger: logger)
        let reader = Thread {
            connection.readAnswers(stdout, onNotification: onNotification)
            close(stdout)
            connection.failAll()
            // Its stdout is gone (it exited, closed it, or sent a line past the limit): nothing more can be said to it.
            connection.terminate()
            let status = child.wait()
            connection.reaped.store(true, ordering: .releasing)
            connection.closeInput()
            onExit(status)
        }
        reader.name = "mcp-\(name)-out"
        reader.start()
        let errors = Thread {
            MCPConnection.forEachLine(stderr, limit: 64 * 1024) { line in
                logger.notice("mcp server stderr", metadata: ["server": "\(name)", "line": "\(String(decoding: line, as: UTF8.self))"])
            }
            close(stderr)
        }
        errors.name = "mcp-\(name)-err"
        errors.start()
        return connection
    }

    /// Sends a request and waits for its answer (the `result` member) at most `timeoutMs`.
    func request(_ method: String, params: JSONValue?, timeoutMs: Int) async -> Result<JSONValue, MCPError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, MCPError>, Never>) in
            let once = FirstAnswer(continuation)
            let id: Int? = state.withLock { state in
                guard !state.closed else { return nil }
                let id = state.nextID
                state.nextID += 1
                state.pending[id] = { once.resume($0) }
                return id
            }
            guard let id else { once.resume(.failure(.notRunning(server: name))); return }
            var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(id))), ("method", .string(method))]
            if let params { members.append(("params", params)) }
            guard write(.object(members)) else {
                _ = state.withLock { $0.pending.removeValue(forKey: id) }
                once.resume(.failure(.exited(server: name)))
                return
            }
            let server = name
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(timeoutMs)) { [weak self] in
                guard let self, self.state.withLock({ $0.pending.removeValue(forKey: id) }) != nil else { return }
                once.resume(.failure(.timedOut(server: server, method: method, ms: timeoutMs)))
            }
        }
    }

    /// Sends a notification (no answer).
    func notify(_ method: String, params: JSONValue? = nil) {
        var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("method", .string(method))]
        if let params { members.append(("params", params)) }
        _ = write(.object(members))
    }

    /// Asks the server to stop (SIGTERM); `kill` for SIGKILL.
    func terminate(kill force: Bool = false) {
        _ = Glibc.kill(pid, force ? SIGKILL : SIGTERM)
    }

    /// Whether the process has exited and been reaped (its pid is free again).
    var hasExited: Bool { reaped.load(ordering: .acquiring) }

    /// Whether the connection still takes requests.
    var isOpen: Bool { state.withLock { !$0.closed } }

    // MARK: Reading and writing

    private func write(_ message: JSONValue) -> Bool {
        let bytes = Array(JSONWriter.compact(message).utf8) + [0x0A]
        // One writer at a time, so lines never interleave; a dead server's pipe gives EPIPE (SIGPIPE is
        // ignored by the daemon), not a signal.
        return writing.withLock { _ -> Bool in
            guard isOpen else { return false }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    private func readAnswers(_ fd: Int32, onNotification: @escaping @Sendable (String, JSONValue?) -> Void) {
        Self.forEachLine(fd, limit: Self.maxLineBytes) { line in
            guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) else { return }
            guard let message = try? JSONParser.parse(bytes: line, limits: JSONLimits(maxDepth: 128, maxBytes: Self.maxLineBytes)) else {
                logger.warning("mcp server sent a line that is not JSON; ignored", metadata: ["server": "\(name)", "bytes": "\(line.count)"])
                return
            }
            if let method = message["method"]?.stringValue {
                if let id = message["id"] {
                    // The server's own request: answer ping, refuse the rest (no client capabilities offered).
                    let reply: JSONValue = method == "ping"
                        ? .object([("jsonrpc", .string("2.0")), ("id", id), ("result", .object([]))])
                        : .object([("jsonrpc", .string("2.0")), ("id", id), ("error", .object([("code", .number(JSONNumber(-32601))),
                                                                                               ("message", .string("method not found: \(method)"))]))])
                    _ = write(reply)
                } else {
                    onNotification(method, message["params"])
                }
                return
            }
            guard let id = message["id"]?.intValue, let complete = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
            if let error = message["error"] {
                complete(.failure(.rpc(server: name, code: error["code"]?.intValue ?? 0, message: error["message"]?.stringValue ?? "")))
            } else if let result = message["result"] {
                complete(.success(result))
            } else {
                complete(.failure(.protocolError(server: name, detail: "an answer with neither result nor error")))
            }
        }
    }

    /// Closes the server's stdin once no write can be under way (the connection is closed by then).
    private func closeInput() {
        writing.withLock { _ in _ = close(stdinFD) }
    }

    private func failAll() {
        let pending = state.withLock { state in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for complete in pending { complete(.failure(.exited(server: name))) }
    }

    /// Calls `body` with each line read from `fd` (without its newline) until end of file; a line longer
    /// than `limit` ends the reading.
    static func forEachLine(_ fd: Int32, limit: Int, _ body: ([UInt8]) -> Void) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return }
            if n == 0 { if !buffer.isEmpty { body(buffer) }; return }
            buffer += chunk[..<n]
            var start = 0
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                body(Array(buffer[start..<newline]))
                start = newline + 1
            }
            buffer.removeFirst(start)
            if buffer.count > limit { return }
        }
    }
}
