// `toolrouter route|call`: send one request to a running daemon and print its JSON answer.

import ArgumentParser
import Daemon
import JSON

/// Options shared by the two client commands.
struct ClientOptions: ParsableArguments {
    @Option(help: "The daemon's agent socket.") var socket = "/run/toolrouter/agent.sock"
    @Option(help: "Catalogue name (needed when the daemon serves several).") var catalogue: String?
    @Option(name: .customLong("deadline-ms"), help: "Deadline for this request.") var deadlineMs: Int?
    @Option(name: .customLong("tool-choice"), help: "auto (default), required (never no_tool), or a tool name.") var toolChoice: String?
    @Argument(help: "The request, in plain language.") var text: String

    /// Sends `method` and prints the response line; a JSON-RPC error exits non-zero.
    func send(method: String) throws {
        var params: [(key: String, value: JSONValue)] = []
        if let catalogue { params.append(("catalogue", .string(catalogue))) }
        params.append(("input", .string(text)))
        if let deadlineMs { params.append(("deadline_ms", .number(JSONNumber(deadlineMs)))) }
        if let toolChoice { params.append(("tool_choice", .string(toolChoice))) }
        let request = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(1))), ("method", .string(method)),
                                        ("params", .object(params))])
        let response: String
        do {
            let client = try AgentClient(path: socket)
            response = try client.request(JSONWriter.compact(request), timeout: 3600)
        } catch { throw CLIError("\(error)") }
        print(response)
        if (try? JSONParser.parse(response))?["error"] != nil { throw ExitCode(1) }
    }
}

struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "route", abstract: "Ask a running daemon which call a request maps to (nothing is executed).")
    @OptionGroup var options: ClientOptions
    func run() throws { try options.send(method: "route") }
}

struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "call", abstract: "Ask a running daemon to decide, validate and execute a call.")
    @OptionGroup var options: ClientOptions
    func run() throws { try options.send(method: "call") }
}

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Print a running daemon's metrics in the Prometheus text format.")
    @Option(help: "The daemon's agent socket.") var socket = "/run/toolrouter/agent.sock"

    func run() throws {
        let request = #"{"jsonrpc":"2.0","id":1,"method":"stats","params":{"format":"prometheus"}}"#
        let response: String
        do { response = try AgentClient(path: socket).request(request, timeout: 30) } catch { throw CLIError("\(error)") }
        guard let text = (try? JSONParser.parse(response))?["result"]?["text"]?.stringValue else { throw CLIError("unexpected answer: \(response)") }
        print(text, terminator: "")
    }
}
