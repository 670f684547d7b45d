// `toolrouter demo-handlers`: tool handlers for both demo catalogues, in Swift.

import ArgumentParser
import Daemon
import Foundation
import JSON

struct DemoHandlersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-handlers",
        abstract: "Serve the demo catalogues' tools (support, devops) with made-up results, over the handler socket.")

    @Option(name: .customLong("handler-socket"), help: "The daemon's handler socket.") var handlerSocket = "/run/toolrouter/handlers.sock"
    @Option(name: .customLong("catalogue"), help: "Catalogues to serve (repeatable).") var catalogues: [String] = ["support", "devops"]

    static let tools: [String: [String]] = [
        "support": ["track_order", "request_refund", "update_address", "escalate"],
        "devops": ["get_service_status", "restart_service", "scale_deployment", "query_logs", "page_oncall", "create_ticket"],
    ]

    func run() throws {
        let threads = try catalogues.map { name -> Thread in
            guard let tools = Self.tools[name] else { throw CLIError("no demo handlers for catalogue '\(name)' (have: support, devops)") }
            let client: AgentClient
            do { client = try AgentClient(path: handlerSocket) } catch { throw CLIError("\(error)") }
            let register = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(1))), ("method", .string("register")),
                                             ("params", .object([("catalogue", .string(name)), ("tools", .array(tools.map { .string($0) }))]))])
            let reply: String
            do { reply = try client.request(JSONWriter.compact(register), timeout: 30) } catch { throw CLIError("\(error)") }
            guard let parsed = try? JSONParser.parse(reply), parsed["result"] != nil else { throw CLIError("registration refused: \(reply)") }
            FileHandle.standardError.write(Data("demo-handlers: serving \(tools.joined(separator: ", ")) of \(name)\n".utf8))
            let box = ClientBox(client)
            return Thread { Self.serve(box.client) }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.2) }
    }

    /// Answers `invoke` requests until the daemon closes the connection.
    static func serve(_ client: AgentClient) {
        while let line = try? client.readLine(timeout: 86_400) {
            guard let message = try? JSONParser.parse(line), message["method"]?.stringValue == "invoke", let id = message["id"] else { continue }
            let tool = message["params"]?["tool"]?.stringValue ?? ""
            let arguments = message["params"]?["arguments"] ?? .object([])
            let response = JSONValue.object([("jsonrpc", .string("2.0")), ("id", id), ("result", result(tool: tool, arguments: arguments))])
            try? client.send(line: JSONWriter.compact(response))
        }
    }

    /// A plausible result for each demo tool, echoing its arguments.
    static func result(tool: String, arguments: JSONValue) -> JSONValue {
        let outcome: [(key: String, value: JSONValue)]
        switch tool {
        case "track_order": outcome = [("status", .string("in transit")), ("eta_days", .number(JSONNumber(2)))]
        case "request_refund": outcome = [("refund", .string("filed"))]
        case "update_address": outcome = [("updated", .bool(true))]
        case "escalate": outcome = [("ticket", .string("ESC-1042"))]
        case "get_service_status": outcome = [("status", .string("healthy")), ("replicas", .number(JSONNumber(3)))]
        case "restart_service": outcome = [("restarted", .bool(true))]
        case "scale_deployment": outcome = [("scaled", .bool(true))]
        case "query_logs": outcome = [("lines", .array([.string("12:01 error timeout talking to db")]))]
        case "page_oncall": outcome = [("paged", .bool(true))]
        case "create_ticket": outcome = [("ticket", .string("OPS-311"))]
        default: outcome = [("ok", .bool(true))]
        }
        return .object([("tool", .string(tool)), ("arguments", arguments)] + outcome)
    }
}

/// Moves a client into its serving thread (used by that thread only from then on).
private final class ClientBox: @unchecked Sendable {
    let client: AgentClient
    init(_ client: AgentClient) { self.client = client }
}
