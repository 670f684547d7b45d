// The OpenAI-compatible HTTP API driven by the official `openai` Python SDK (PyPI, pinned in
// scripts/setup's .clients venv), no mock anywhere: the real daemon with the support adapter, a real
// handler process (examples/handler.py), the HTTP Unix socket through httpx's `uds` transport, and
// loopback TCP with a bearer token. The checks themselves are in Tests/Clients/openai_sdk_check.py:
// every tool_choice form, streaming and not, inline tools, history with a tool result, dispatch, and the
// 400s that name their parameter.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// The venv's Python with the client SDKs; a clear failure when scripts/setup has not made it.
func clientsPython() throws -> String {
    let path = TestPaths.packageRoot.appendingPathComponent(".clients/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw ClientError.io("\(path) is missing: run scripts/setup (it installs the openai and mcp SDKs there)")
    }
    return path
}

/// The TCP address an HTTP server of the daemon's "ready" line listens on (`http=…,127.0.0.1:PORT`).
func httpTCPAddress(in log: String) -> String? {
    guard let line = log.split(separator: "\n").first(where: { $0.contains(" ready ") }),
          let range = line.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
    return String(line[range])
}

extension SocketSuites {
    @Suite("OpenAI SDK over HTTP")
    struct OpenAISDKTests {
        @Test("the openai SDK over the Unix socket and loopback TCP: tool choices, streaming, inline tools, history, dispatch, 400s")
        func sdk() throws {
            let python = try clientsPython()
            let directory = ServeChild.freshDirectory()
            let token = "tok-\(UInt64.random(in: 1...UInt64.max))"
            try token.write(toFile: directory + "/token", atomically: true, encoding: .utf8)
            let adapter = TestPaths.packageRoot.appendingPathComponent("adapters/support").path
            let daemon = try ServeChild(["--adapter", "support=\(adapter)", "--http-socket", directory + "/http.sock",
                                         "--http-listen", "127.0.0.1:0", "--http-token-file", directory + "/token"],
                                        directory: directory, name: "serve-http")
            defer { _ = daemon.child.stop() }
            try daemon.waitUntilServing()
            let tcp = try #require(httpTCPAddress(in: daemon.child.output), "no TCP address in the ready line: \(daemon.child.output)")

            let handler = try ChildProcess("/usr/bin/env", ["python3", TestPaths.packageRoot.appendingPathComponent("examples/handler.py").path,
                                                            "--socket", daemon.handlerSocket, "--catalogue", "support"], log: "handler-http")
            defer { _ = handler.stop() }
            let client = try daemon.connect()
            #expect(eventually(within: 30) {
                (try? rpc(client, "health"))?["result"]?["handlers"]?["support"]?["track_order"]?.intValue == 1
            }, "the handler did not register")

            let script = TestPaths.packageRoot.appendingPathComponent("Tests/Clients/openai_sdk_check.py").path
            let catalogue = TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path
            let check = try ChildProcess(python, [script, "--uds", directory + "/http.sock", "--tcp", "http://\(tcp)",
                                                  "--token", token, "--catalogue-file", catalogue], log: "openai-sdk-check")
            let status = check.wait(timeout: 300)
            #expect(status == 0, "openai SDK checks failed (status \(status.map(String.init) ?? "timeout")):\n\(check.output)")
            #expect(check.output.contains("all checks passed"), "\(check.output)")

            // The daemon counted the HTTP requests by operation and protocol, and kept serving.
            let metrics = try rpc(client, "stats", .object([("format", .string("prometheus"))]))["result"]?["text"]?.stringValue ?? ""
            #expect(metrics.contains(#"toolrouter_requests_total{operation="route",protocol="http",catalogue="support",tool="track_order",outcome="ok"}"#),
                    "\(metrics)")
            #expect(metrics.contains(#"operation="call",protocol="http",catalogue="support",tool="track_order",outcome="ok""#))
            #expect(metrics.contains(#"operation="route",protocol="http",catalogue="adhoc",tool="adhoc",outcome="ok""#))
            #expect(daemon.isHealthy())
            client.disconnect()
        }

        @Test("the HTTP socket has the agent socket's gate: a peer not allowed gets 403, an idle connection 408, both closed")
        func gate() throws {
            let directory = ServeChild.freshDirectory()
            let refusing = try ServeChild(["--http-socket", directory + "/http.sock", "--allowed-uid", "4242"], directory: directory, name: "serve-http-403")
            defer { _ = refusing.child.stop() }
            let refused = try refusing.connect(directory + "/http.sock")
            let status = try refused.readLine(timeout: 60)
            #expect(status.hasPrefix("HTTP/1.1 403 Forbidden"), "\(status)")
            let (headers, body) = try Self.headAndBody(refused)
            #expect(body.contains(#""code":"forbidden""#) && headers.contains("connection: close"), "\(headers) \(body)")

            let idleDirectory = ServeChild.freshDirectory()
            let idling = try ServeChild(["--http-socket", idleDirectory + "/http.sock", "--idle-timeout-ms", "300"], directory: idleDirectory,
                                        name: "serve-http-408")
            defer { _ = idling.child.stop() }
            let idle = try idling.connect(idleDirectory + "/http.sock")
            let timedOut = try idle.readLine(timeout: 60)
            #expect(timedOut.hasPrefix("HTTP/1.1 408 Request Timeout"), "\(timedOut)")
            // A connection that keeps asking is not idle: keep-alive requests are answered one after another.
            let busy = try idling.connect(idleDirectory + "/http.sock")
            for _ in 0..<3 {
                try busy.write(Array("GET /health HTTP/1.1\r\nhost: x\r\n\r\n".utf8))
                #expect(try busy.readLine(timeout: 60).hasPrefix("HTTP/1.1 200 OK"))
                #expect(try Self.headAndBody(busy).body.contains(#""status":"ok""#))
            }
        }

        /// The rest of a response after its status line: the header lines (lowercased) and the body, by Content-Length.
        static func headAndBody(_ client: AgentClient) throws -> (headers: [String], body: String) {
            var headers: [String] = []
            var length = 0
            while true {
                let line = try client.readLine(timeout: 60).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                if line.isEmpty { break }
                headers.append(line)
                if line.hasPrefix("content-length:") { length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0 }
            }
            return (headers, String(decoding: try client.read(count: length, timeout: 60), as: UTF8.self))
        }
    }
}
