// Hostile catalogues against the real binary. `toolrouter grammar` must exit with a clear error
// naming the JSON pointer (no signal: on main, a 5,000-link `$ref` chain overflowed the stack), and a
// running `toolrouter serve` whose catalogue file is replaced by a hostile one and told to reload
// (SIGHUP) must stay up: the reload fails and is logged, the previous pipeline keeps serving.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

extension SocketSuites {
    @Suite("Hostile catalogues: the real binary", .serialized)
    struct HostileCatalogueDaemonTests {
        /// Corpus cases refused before any model is needed (the mask budget is a serving check).
        static let refusedByTheCatalogueOrGrammar = ["deep-ref-chain", "deep-ref-chain-reversed", "deep-properties", "deep-groups-pattern",
                                                     "self-ref-root", "ref-cycle", "lookahead-pattern", "backreference-pattern"]

        @Test("toolrouter grammar exits 1 with the pointer in the message, never by a signal", arguments: refusedByTheCatalogueOrGrammar)
        func grammarCommand(_ name: String) throws {
            let hostile = try #require(try HostileCatalogues.all().first { $0.name == name })
            let expected = try #require(hostile.expectedError)
            let dir = try temporaryDirectory("hostile-grammar")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = try hostile.write(into: dir)
            let child = try ChildProcess(try TestPaths.toolrouterBinary(), ["grammar", "--catalogue", path], log: "grammar")
            let code = child.wait(timeout: 120)
            let output = child.output
            child.stop()
            #expect(code == 1, "exit code \(String(describing: code)) (128 + n is signal n): \(output.suffix(600))")
            for part in expected { #expect(output.contains(part), "\(name): \(output.prefix(600))") }
        }

        @Test("serve: a SIGHUP onto each hostile catalogue fails the reload, and the old pipeline keeps answering")
        func reloadOntoHostileCatalogues() throws {
            let dir = try temporaryDirectory("hostile-serve")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let cataloguePath = dir + "/support.tools.json"
            let good = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json"), encoding: .utf8)
            try good.write(toFile: cataloguePath, atomically: true, encoding: .utf8)
            let agentSocket = dir + "/agent.sock"
            let child = try ChildProcess(try TestPaths.toolrouterBinary(), [
                "serve", "--model", try TestPaths.requireModel(), "--catalogue", "support=\(cataloguePath)",
                "--agent-socket", agentSocket, "--handler-socket", dir + "/handlers.sock", "--socket-mode", "0600",
            ], log: "hostile-serve")
            defer { child.stop() }
            let client = try connect(agentSocket, child: child)
            defer { client.disconnect() }
            try expectServing(client)

            let cases = try HostileCatalogues.all().filter { ["deep-ref-chain", "huge-enum", "ref-cycle", "deep-groups-pattern"].contains($0.name) }
            #expect(cases.count == 4)
            let inFlight = try connect(agentSocket, child: child)
            defer { inFlight.disconnect() }
            for (index, hostile) in cases.enumerated() {
                try hostile.text.write(toFile: cataloguePath, atomically: true, encoding: .utf8)
                // Requests accepted just before the reload are answered, whatever becomes of it.
                for id in 1...2 { try inFlight.send(line: Self.routeLine(id: id)) }
                child.send(SIGHUP)
                let log = child.waitForOutput("reload failed; still serving the previous configuration", count: index + 1, timeout: 120)
                #expect(child.isRunning, "\(hostile.name): the daemon died: \(child.output.suffix(2000))")
                guard child.isRunning else { return }
                #expect(log.occurrences("reload failed; still serving the previous configuration") == index + 1,
                        "\(hostile.name): no failed reload logged: \(log.suffix(2000))")
                let reason = hostile.expectedError?.last ?? ""
                #expect(log.contains(reason), "\(hostile.name): the log does not say why (\(reason))")
                for _ in 1...2 {
                    let answer = try JSONParser.parse(try inFlight.readLine(timeout: 120))
                    #expect(answer["result"]?["call"]?["tool"]?.stringValue == "track_order", "\(hostile.name): \(JSONWriter.compact(answer))")
                }
                try expectServing(client)
            }
            child.send(SIGTERM)
            #expect(child.wait(timeout: 90) == 0)
        }

        /// `health` is ok and a route on the previous catalogue still decodes a call (the tool forced, so the
        /// answer does not hang on the base model's judgement).
        private func expectServing(_ client: AgentClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let health = try request(client, "health", nil)
            #expect(health["result"]?["status"]?.stringValue == "ok", "\(JSONWriter.compact(health))", sourceLocation: sourceLocation)
            let routed = try JSONParser.parse(try client.request(Self.routeLine(id: 2), timeout: 120))
            #expect(routed["result"]?["call"]?["tool"]?.stringValue == "track_order", "\(JSONWriter.compact(routed))", sourceLocation: sourceLocation)
        }

        /// A `route` request line forcing `track_order`.
        static func routeLine(id: Int) -> String {
            JSONWriter.compact(.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(id))), ("method", .string("route")),
                                        ("params", .object([("catalogue", .string("support")), ("input", .string("Where is my order ORD-55821?")),
                                                            ("tool_choice", .string("track_order"))]))]))
        }

        private func request(_ client: AgentClient, _ method: String, _ params: JSONValue?) throws -> JSONValue {
            var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(1))), ("method", .string(method))]
            if let params { members.append(("params", params)) }
            return try JSONParser.parse(try client.request(JSONWriter.compact(.object(members)), timeout: 120))
        }

        /// A client, once the daemon listens (it loads the model first).
        private func connect(_ path: String, child: ChildProcess) throws -> AgentClient {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if let client = try? AgentClient(path: path) { return client }
                guard child.isRunning else { break }
                usleep(50_000)
            }
            throw ClientError.io("the daemon did not start listening: \(child.output)")
        }
    }
}

private extension String {
    func occurrences(_ part: String) -> Int { components(separatedBy: part).count - 1 }
}
