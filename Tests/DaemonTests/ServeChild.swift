// `toolrouter serve` as a child process, for the tests that attack or stop the real daemon: the support
// catalogue on sockets in a fresh directory, extra flags, environment and a launcher in front of it
// (`prlimit`, …), and what the tests read off it (health, resident memory, a connected client).

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// `toolrouter serve` with the support catalogue on sockets in a fresh temporary directory.
final class ServeChild {
    let directory: String
    let agentSocket: String
    let handlerSocket: String
    let child: ChildProcess

    /// Starts the daemon with `extra` flags; `launcher` runs in front of it (e.g. `["/usr/bin/prlimit",
    /// "--nofile=64:64", "--"]`). `socketMode` nil leaves both sockets at the daemon's default mode;
    /// `directoryMode` makes the new directory reachable by other uids (for peers run with `setpriv`).
    init(_ extra: [String] = [], launcher: [String] = [], environment: [String: String] = [:], directory: String? = nil,
         handlerSocket: String? = nil, socketMode: String? = "0600", directoryMode: Int? = nil, name: String = "serve") throws {
        let dir = directory ?? Self.freshDirectory(mode: directoryMode)
        self.directory = dir
        agentSocket = dir + "/agent.sock"
        self.handlerSocket = handlerSocket ?? dir + "/handlers.sock"
        let examples = TestPaths.packageRoot.appendingPathComponent("examples/catalogues").path
        let serve = [try TestPaths.toolrouterBinary(), "serve", "--model", try TestPaths.requireModel(),
                     "--catalogue", "support=\(examples)/support.tools.json",
                     "--agent-socket", agentSocket, "--handler-socket", self.handlerSocket]
            + (socketMode.map { ["--socket-mode", $0] } ?? []) + extra
        let command = launcher + serve
        child = try ChildProcess(command[0], Array(command.dropFirst()), environment: environment, log: name)
    }

    /// A new directory for one daemon's sockets (short, to fit `sun_path`).
    static func freshDirectory(mode: Int? = nil) -> String {
        let dir = NSTemporaryDirectory() + "tr-sock-\(getpid())-\(nextDirectory.add())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                 attributes: mode.map { [.posixPermissions: $0] })
        if let mode { chmod(dir, mode_t(mode)) }   // createDirectory's mode is cut by the umask
        return dir
    }
    private static let nextDirectory = Counter()

    /// A client on `path` (the agent socket by default) once the daemon listens there (it loads the model first).
    func connect(_ path: String? = nil) throws -> AgentClient {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let client = try? AgentClient(path: path ?? agentSocket) { return client }
            guard child.isRunning else { break }
            usleep(20_000)   // polling for the socket to appear, not synchronising on it
        }
        throw ClientError.io("the daemon did not start listening: \(child.output)")
    }

    /// Waits (up to 60 s) until the agent socket answers `health`; throws with the daemon's output if not.
    func waitUntilServing() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && child.isRunning {
            if let client = try? AgentClient(path: agentSocket),
               let line = try? client.request(#"{"jsonrpc":"2.0","id":0,"method":"health"}"#, timeout: 10), line.contains("\"ok\"") {
                return
            }
            usleep(20_000)
        }
        throw ClientError.io("the daemon did not start serving: \(child.output)")
    }

    /// Answers `health` on a new connection within `timeout` seconds.
    func isHealthy(timeout: Double = 10) -> Bool {
        guard let client = try? AgentClient(path: agentSocket),
              let line = try? client.request(#"{"jsonrpc":"2.0","id":"h","method":"health"}"#, timeout: timeout) else { return false }
        return line.contains("\"ok\"")
    }

    /// Resident memory of the daemon, in bytes (VmRSS).
    var residentBytes: Int { ProcStats.residentBytes(pid: child.pid) }

    /// Resident memory of the daemon, in KiB.
    var residentKiB: Int { residentBytes / 1024 }

    /// Writes `text` to a file in the daemon's directory, readable by every uid; its path.
    func script(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        return path
    }
}

/// A JSON-RPC request line.
func rpcLine(_ method: String, _ params: JSONValue? = nil, id: Int) -> String {
    var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(id))), ("method", .string(method))]
    if let params { members.append(("params", params)) }
    return JSONWriter.compact(.object(members))
}

/// Sends one request on `client` and parses the answer.
func rpc(_ client: AgentClient, _ method: String, _ params: JSONValue? = nil, id: Int = 1, timeout: Double = 120) throws -> JSONValue {
    try JSONParser.parse(try client.request(rpcLine(method, params, id: id), timeout: timeout))
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; whether it held.
func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
