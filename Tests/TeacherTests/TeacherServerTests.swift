// The plumbing end to end: llama-cpp-python's OpenAI-compatible server (scripts/teacher-server's venv)
// with the project's small model standing in as the teacher, started as a child process on a free
// port, asked for rows like the support examples. What the rows say does not matter here; that
// requests arrive, answers are read or counted, and only valid rows are kept does.
//
// Runs when .teacher/ exists (`scripts/teacher-server --install-only`) or TOOLROUTER_TEACHER_URL names
// a running server (TOOLROUTER_TEACHER_MODEL its model); otherwise it is reported as skipped.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import JSON
import Synthesis
import Teacher
import TestSupport
import ToolCalls

enum TeacherServer {
    static let python = TestPaths.packageRoot.appendingPathComponent(".teacher/bin/python").path
    static var externalURL: String? { ProcessInfo.processInfo.environment["TOOLROUTER_TEACHER_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var available: Bool { externalURL != nil || FileManager.default.isExecutableFile(atPath: python) }

    /// A port nobody listens on now: bind port 0, read what the kernel chose, close.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerSetupError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ServerSetupError("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Polls GET {base}/models until the server answers 200, it exits, or `timeout` seconds pass.
    static func waitUntilReady(base: String, server: ChildProcess, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        guard let url = URL(string: base + "/models") else { throw ServerSetupError("bad URL \(base)") }
        while Date() < deadline {
            guard server.isRunning else { throw ServerSetupError("teacher server exited before answering:\n\(server.output.suffix(2000))") }
            var request = URLRequest(url: url, timeoutInterval: 2)
            request.httpMethod = "GET"
            if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(nanoseconds: 200_000_000)  // polling interval while the model loads, not synchronisation
        }
        throw ServerSetupError("no answer on \(base) within \(Int(timeout)) s:\n\(server.output.suffix(2000))")
    }
}

/// The stand-in teacher could not be started or reached.
struct ServerSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite(.serialized) struct TeacherServerTests {
    @Test(.enabled(if: TeacherServer.available,
                   "needs the stand-in teacher: run scripts/teacher-server --install-only (creates .teacher/) or set TOOLROUTER_TEACHER_URL"),
          .timeLimit(.minutes(10)))
    func distillAgainstLlamaCppServer() async throws {
        let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
        let examples = try ExampleRows.load(path: TestPaths.packageRoot.appendingPathComponent("training/examples/support.jsonl").path,
                                            catalogue: catalogue)
        var server: ChildProcess?
        let base: String
        let model: String
        if let external = TeacherServer.externalURL {
            base = external
            model = ProcessInfo.processInfo.environment["TOOLROUTER_TEACHER_MODEL"] ?? "teacher"
        } else {
            let port = try TeacherServer.freePort()
            model = try TestPaths.requireModel()
            let child = try ChildProcess(TeacherServer.python, ["-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                                                                "--port", String(port), "--n_ctx", "4096", "--n_threads", "2"],
                                         log: "teacher-server")
            server = child
            base = "http://127.0.0.1:\(port)/v1"
            try await TeacherServer.waitUntilReady(base: base, server: child, timeout: 120)
        }

        var options = TeacherOptions()
        options.batchSize = 3
        options.paraphrasesPerExample = 1
        options.proposalsPerRequest = 4
        options.noToolPerProposal = 1
        options.maxTokens = 512
        options.maxRequests = 2
        let client = ChatClient(endpoint: TeacherEndpoint(baseURL: base, model: model, timeout: 300), retry: RetryPolicy(maxAttempts: 2))
        let result = try await TeacherSession(client: client, options: options)
            .distill(catalogue: catalogue, examples: examples, count: 50, seed: 3)
        print("teacher integration: \(result.summary); response format \(result.responseFormat.rawValue)")
        for candidate in result.candidates { print("  \(candidate.verdict) | \(candidate.row.jsonLine)") }
        for problem in result.problems { print("  unparseable: \(problem)") }

        // Requests reached the server (its access log shows them when we started it).
        #expect(result.requests == 2)
        #expect(result.httpRequests >= 2)
        if let server { #expect(server.output.contains("POST /v1/chat/completions"), "server log:\n\(server.output.suffix(2000))") }
        // Every answer row was either read or counted as unparseable.
        #expect(result.received == result.candidates.count + result.unparseable)
        // Kept rows pass the checks; rejected ones carry a known reason and a detail, and really fail them.
        let seen = Set(examples.map(\.dedupeKey))
        for candidate in result.candidates {
            switch candidate.verdict {
            case .keep:
                #expect(RowChecks.verdict(candidate.row, catalogue: catalogue) == .keep)
                #expect(catalogue.validate(candidate.row.call, origin: .request(candidate.row.prompt)).isEmpty)
                #expect(!seen.contains(candidate.row.dedupeKey))
            case .reject(let reason, let detail):
                #expect([RejectReason.schema, RejectReason.notInRequest, RejectReason.emptyReason, RejectReason.duplicate].contains(reason))
                #expect(!detail.isEmpty)
                if reason != RejectReason.duplicate { #expect(RowChecks.verdict(candidate.row, catalogue: catalogue) == candidate.verdict) }
            }
        }

        // `train --teacher`'s path on the same server: kept rows join the examples, each passing the generator's judge.
        let set = try ExampleSet.load(path: TestPaths.packageRoot.appendingPathComponent("training/examples/support.jsonl").path, catalogue: catalogue)
        options.maxRequests = 1
        let (extended, extendResult, added) = try await TeacherSession(client: client, options: options)
            .extend(set, catalogue: catalogue, count: 10, seed: 4)
        print("teacher integration, extend: \(extendResult.summary); \(added) joined")
        #expect(extendResult.requests == 1)
        #expect(added <= extendResult.kept.count && extended.examples.count == set.examples.count + added)
        for example in extended.examples.dropFirst(set.examples.count) {
            #expect(example.line >= TeacherSession.firstTeacherLine)
            #expect(ExampleSet.judge(prompt: example.prompt, call: example.call, catalogue: catalogue) == nil)
        }
        for candidate in extendResult.candidates where candidate.verdict.isKept {
            #expect(ExampleSet.judge(prompt: candidate.row.prompt, call: candidate.row.call, catalogue: catalogue) == nil)
        }

        if let server {
            let status = server.stop(signal: SIGTERM, timeout: 30)
            #expect(!server.isRunning)
            #expect(status == 0 || status == 128 + SIGTERM, "server exit status \(status)")
        }
    }
}
