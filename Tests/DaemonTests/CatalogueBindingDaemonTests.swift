// The adapter ↔ catalogue rule against the real binary: `serve` and `eval` refuse an adapter whose
// train_info.json records another catalogue (naming the tools that differ) unless told otherwise; a
// reload onto such a pairing fails and the previous configuration keeps serving; an adapter with no
// record loads with one warning.
//
// The adapters are copies of adapters/support in a temporary directory with a train_info.json record
// written by `AdapterCatalogueRecord` for whichever catalogue the test needs.

import Foundation
import JSON
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// The demo catalogues the tests pair adapters with.
private let examples = TestPaths.packageRoot.appendingPathComponent("examples/catalogues").path
private let supportFile = examples + "/support.tools.json"
private let devopsFile = examples + "/devops.tools.json"

/// Copies adapters/support into `directory`/`name`, replacing its train_info.json by `info` (no file when
/// nil) and then, when `recording` is given, writing that catalogue's record into it.
private func makeAdapter(in directory: String, name: String = "adapter", info: String? = nil, recording catalogue: String? = nil) throws -> String {
    let source = TestPaths.packageRoot.appendingPathComponent("adapters/support").path
    let path = directory + "/" + name
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    for file in ["adapter_config.json", "adapter_model.safetensors"] {
        try FileManager.default.copyItem(atPath: source + "/" + file, toPath: path + "/" + file)
    }
    if let info { try info.write(toFile: path + "/train_info.json", atomically: true, encoding: .utf8) }
    if let catalogue {
        try AdapterCatalogueRecord.write(CatalogueFingerprint(catalogue: try ToolCatalogue(contentsOf: catalogue)), adapterDirectory: path)
    }
    return path
}

/// The names of a catalogue file's tools, comma-separated as the error lists them.
private func toolList(_ file: String) throws -> String { try ToolCatalogue(contentsOf: file).names.joined(separator: ", ") }

private extension String {
    func occurrences(_ part: String) -> Int { components(separatedBy: part).count - 1 }
}

/// A `route` request forcing `track_order`, so the answer does not depend on the model's judgement.
private let forcedRoute: JSONValue = .object([("catalogue", .string("support")), ("input", .string("Where is my order ORD-55821?")),
                                              ("tool_choice", .string("track_order"))])

private let refusal = "was trained on a different catalogue than"
private let mismatchWarning = "adapter trained on a different catalogue, loaded anyway"
private let unrecordedWarning = "adapter records no catalogue; its pairing with this catalogue cannot be checked"

extension SocketSuites {
    @Suite("Adapter ↔ catalogue binding: the real binary", .serialized)
    struct CatalogueBindingDaemonTests {
        @Test("serve refuses an adapter trained on another catalogue, naming the tools that differ and the override")
        func serveRefusesMismatch() throws {
            let dir = try temporaryDirectory("bind-refuse")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let adapter = try makeAdapter(in: dir, recording: devopsFile)
            let serve = try ServeChild(["--adapter", "support=\(adapter)"], name: "bind-refuse")
            let code = serve.child.wait(timeout: 120)
            let output = serve.child.output
            #expect(code == 1, "exit code \(String(describing: code)): \(output.suffix(1500))")
            #expect(output.contains("catalogue support: adapter \(adapter) \(refusal) \(supportFile)"), "\(output.suffix(1500))")
            #expect(output.contains("added in the catalogue: \(try toolList(supportFile))"), "\(output.suffix(1500))")
            #expect(output.contains("missing from the catalogue: \(try toolList(devopsFile))"), "\(output.suffix(1500))")
            #expect(output.contains("--allow-catalogue-mismatch") && output.contains("\"allow_catalogue_mismatch\": true"))
            #expect(!FileManager.default.fileExists(atPath: serve.agentSocket), "a refused pairing must not start listening")
        }

        @Test("serve --allow-catalogue-mismatch loads the adapter, logs one warning naming the differences, and serves")
        func serveWithOverride() throws {
            let dir = try temporaryDirectory("bind-override")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let adapter = try makeAdapter(in: dir, recording: devopsFile)
            let serve = try ServeChild(["--adapter", "support=\(adapter)", "--allow-catalogue-mismatch"], name: "bind-override")
            defer { serve.child.stop() }
            try serve.waitUntilServing()
            let client = try serve.connect()
            defer { client.disconnect() }
            let routed = try rpc(client, "route", forcedRoute)
            #expect(routed["result"]?["call"]?["tool"]?.stringValue == "track_order", "\(JSONWriter.compact(routed))")
            let log = serve.child.output
            #expect(log.occurrences(mismatchWarning) == 1, "\(log.suffix(2000))")
            #expect(log.contains("added in the catalogue: \(try toolList(supportFile))"))
            #expect(!log.contains(refusal))
        }

        @Test("an adapter without a record (train_info.json names the catalogue but holds no hash) loads with one warning")
        func unrecordedAdapterWarnsOnce() throws {
            let dir = try temporaryDirectory("bind-unrecorded")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let adapter = try makeAdapter(in: dir, info: #"{"catalogue": "support", "rows": 2000}"#)
            let serve = try ServeChild(["--adapter", "support=\(adapter)"], name: "bind-unrecorded")
            defer { serve.child.stop() }
            try serve.waitUntilServing()
            let log = serve.child.output
            #expect(log.occurrences(unrecordedWarning) == 1, "\(log.suffix(2000))")
            #expect(log.contains("records no hash of it"), "the warning says why: \(log.suffix(2000))")
            #expect(!log.contains(mismatchWarning) && !log.contains(refusal))
        }

        @Test("eval refuses an adapter trained on another catalogue; with --allow-catalogue-mismatch it evaluates, with a warning")
        func evalRefusesMismatch() throws {
            let dir = try temporaryDirectory("bind-eval")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let adapter = try makeAdapter(in: dir, recording: devopsFile)
            let gold = dir + "/gold.jsonl"
            try #"{"prompt": "Where is my order ORD-55821?", "target": {"tool": "track_order", "arguments": {"order_id": "ORD-55821"}}}"#
                .write(toFile: gold, atomically: true, encoding: .utf8)
            let arguments = ["eval", "--model", try TestPaths.requireModel(), "--catalogue", supportFile, "--gold", gold, "--adapter", adapter, "--json"]

            let refused = try ChildProcess(try TestPaths.toolrouterBinary(), arguments, log: "bind-eval")
            let code = refused.wait(timeout: 120)
            let output = refused.output
            #expect(code == 1, "exit code \(String(describing: code)): \(output.suffix(1500))")
            #expect(output.contains("adapter \(adapter) \(refusal) \(supportFile)"), "\(output.suffix(1500))")
            #expect(output.contains("added in the catalogue: \(try toolList(supportFile))") && output.contains("missing from the catalogue: "))
            #expect(output.contains("pass --allow-catalogue-mismatch to evaluate it anyway"))
            #expect(!output.contains("\"rows\""), "no report for a refused pairing")

            let allowed = try ChildProcess(try TestPaths.toolrouterBinary(), arguments + ["--allow-catalogue-mismatch"], log: "bind-eval-allowed")
            let allowedCode = allowed.wait(timeout: 300)
            let allowedOutput = allowed.output
            #expect(allowedCode == 0, "exit code \(String(describing: allowedCode)): \(allowedOutput.suffix(1500))")
            #expect(allowedOutput.occurrences("warning: \(mismatchWarning) (--allow-catalogue-mismatch)") == 1, "\(allowedOutput.suffix(1500))")
            #expect(allowedOutput.contains("\"rows\":1"), "\(allowedOutput.suffix(1500))")
        }

        /// Then `allow_catalogue_mismatch` in the config lets the next reload through, with a warning.
        @Test("a reload onto a catalogue its adapter was not trained on fails, names the tool, and the old pipeline keeps serving")
        func reloadOntoMismatch() throws {
            let dir = try temporaryDirectory("bind-reload")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let catalogue = dir + "/support.tools.json"
            try FileManager.default.copyItem(atPath: supportFile, toPath: catalogue)
            let adapter = try makeAdapter(in: dir, recording: catalogue)
            let config = dir + "/toolrouter.json"
            func writeConfig(allow: Bool) throws {
                try JSONWriter.compact(.object([
                    ("model", .string(try TestPaths.requireModel())),
                    ("catalogues", .array([.object([("name", .string("support")), ("file", .string(catalogue)), ("adapter", .string(adapter))])])),
                    ("agent_socket", .string(dir + "/agent.sock")), ("handler_socket", .string(dir + "/handlers.sock")),
                    ("socket_mode", .string("0600")), ("allow_catalogue_mismatch", .bool(allow)),
                ])).write(toFile: config, atomically: true, encoding: .utf8)
            }
            try writeConfig(allow: false)
            let child = try ChildProcess(try TestPaths.toolrouterBinary(), ["serve", "--config", config], log: "bind-reload")
            defer { child.stop() }
            let client = try connectWhenListening(dir + "/agent.sock", child: child)
            defer { client.disconnect() }
            #expect(try rpc(client, "route", forcedRoute)["result"]?["call"]?["tool"]?.stringValue == "track_order")
            let started = child.output
            #expect(!started.contains(unrecordedWarning) && !started.contains(mismatchWarning), "a matching record loads quietly: \(started.suffix(1500))")

            // The catalogue file changes under the daemon: one tool's description.
            let text = try String(contentsOfFile: catalogue, encoding: .utf8)
            let description = try #require(try ToolCatalogue(contentsOf: catalogue).tool(named: "escalate")?.description)
            #expect(text.contains(description))
            try text.replacingOccurrences(of: description, with: description + " Only during office hours.")
                .write(toFile: catalogue, atomically: true, encoding: .utf8)
            child.send(SIGHUP)
            let failed = child.waitForOutput("reload failed; still serving the previous configuration")
            #expect(child.isRunning, "the daemon died: \(failed.suffix(2000))")
            #expect(failed.occurrences("reload failed; still serving the previous configuration") == 1, "\(failed.suffix(2000))")
            #expect(failed.contains("schema or description changed: escalate"), "\(failed.suffix(2000))")
            #expect(failed.contains("allow_catalogue_mismatch"), "the error says how to override: \(failed.suffix(2000))")
            #expect(try rpc(client, "health")["result"]?["status"]?.stringValue == "ok")
            #expect(try rpc(client, "route", forcedRoute)["result"]?["call"]?["tool"]?.stringValue == "track_order")

            // The config key is reloadable: with it the same pairing loads, with a warning.
            try writeConfig(allow: true)
            child.send(SIGHUP)
            let reloaded = child.waitForOutput("reloaded")
            #expect(reloaded.occurrences("reloaded") == 1 && reloaded.occurrences(mismatchWarning) == 1, "\(reloaded.suffix(2000))")
            #expect(!reloaded.contains("take effect only at the next restart"), "allow_catalogue_mismatch is applied by a reload")
            #expect(try rpc(client, "route", forcedRoute)["result"]?["call"]?["tool"]?.stringValue == "track_order")
            child.send(SIGTERM)
            #expect(child.wait(timeout: 90) == 0)
        }

        /// A client once the daemon listens on `path` (it loads the model first).
        private func connectWhenListening(_ path: String, child: ChildProcess) throws -> AgentClient {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if let client = try? AgentClient(path: path) { return client }
                guard child.isRunning else { break }
                usleep(50_000)   // polling for the socket to appear
            }
            throw ClientError.io("the daemon did not start listening: \(child.output)")
        }
    }
}
