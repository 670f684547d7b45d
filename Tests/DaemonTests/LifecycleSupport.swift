// `toolrouter serve` as a child process for the lifecycle tests (stop deadline, message size, BLAS
// check): temporary sockets, the support catalogue, extra flags and environment.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// A running `toolrouter serve` on temporary sockets with the support catalogue.
final class LifecycleServe {
    let agentSocket: String
    let handlerSocket: String
    let child: ChildProcess

    init(_ extra: [String] = [], environment: [String: String] = [:], name: String = "serve") throws {
        let dir = NSTemporaryDirectory() + "toolrouter-lc-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        agentSocket = dir + "/agent.sock"
        handlerSocket = dir + "/handlers.sock"
        let examples = TestPaths.packageRoot.appendingPathComponent("examples/catalogues").path
        child = try ChildProcess(try TestPaths.toolrouterBinary(), [
            "serve", "--model", try TestPaths.requireModel(), "--catalogue", "support=\(examples)/support.tools.json",
            "--agent-socket", agentSocket, "--handler-socket", handlerSocket, "--socket-mode", "0600",
        ] + extra, environment: environment, log: name)
    }

    /// A client on `path` once the daemon listens there (it loads the model first).
    func connect(_ path: String? = nil) throws -> AgentClient {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let client = try? AgentClient(path: path ?? agentSocket) { return client }
            guard child.isRunning else { break }
            usleep(20_000)   // polling for the socket to appear, not synchronising on it
        }
        throw ClientError.io("the daemon did not start listening: \(child.output)")
    }

    /// A request line.
    static func line(_ method: String, _ params: JSONValue? = nil, id: Int) -> String {
        var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(id))), ("method", .string(method))]
        if let params { members.append(("params", params)) }
        return JSONWriter.compact(.object(members))
    }

    /// Sends one request and parses its answer.
    static func send(_ client: AgentClient, _ method: String, _ params: JSONValue? = nil, id: Int = 1, timeout: Double = 120) throws -> JSONValue {
        try JSONParser.parse(try client.request(line(method, params, id: id), timeout: timeout))
    }
}
