// `toolrouter bench route`: latency and throughput of a running daemon, per phase.

import ArgumentParser
import BenchCharts
import Daemon
import Foundation
import Inference
import JSON

struct RouteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "p50/p95/p99 of total and per-phase latency, and throughput, against a running daemon.")

    @Option(help: "The daemon's agent socket.") var socket = "/run/toolrouter/agent.sock"
    @Option(name: .customLong("http-socket"),
            help: "Time the OpenAI HTTP API on this socket instead (POST /v1/chat/completions, keep-alive; call = toolrouter.dispatch).")
    var httpSocket: String?
    @Option(help: "Catalogue name.") var catalogue: String
    @Option(help: "Requests, one {\"prompt\": \"...\"} a line.") var prompts: String
    @Option(help: "Concurrent clients, one connection each.") var concurrency = 1
    @Option(help: "Run once per concurrency in this comma-separated list (e.g. 1,2,4,8,16) and print the curve; overrides --concurrency.")
    var sweep: String?
    @Option(help: "With --sweep: write the curve as an SVG chart here (latency percentiles and throughput against concurrency).")
    var svg: String?
    @Option(name: .customLong("peer"), help: "With --svg: a peer's sweep (this command's --sweep --json output, or the same shape) drawn beside ToolRouter's.")
    var peer: String?
    @Option(name: .customLong("peer-label"), help: "The peer's name in the chart.") var peerLabel = "peer"
    @Option(help: "Requests in all (after the warm-up), per concurrency.") var requests = 50
    @Option(help: "Requests sent first and not counted.") var warmup = 5
    @Option(help: "Method to time: route (no dispatch) or call.") var method = "route"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: prompts), let text = String(data: data, encoding: .utf8) else {
            throw CLIError("\(prompts): cannot read the file")
        }
        let inputs = text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["prompt"]?.stringValue }
        guard !inputs.isEmpty else { throw CLIError("\(prompts): no {\"prompt\": ...} lines") }
        // A bad level list or peer file is refused before any request is sent.
        let levels = try sweep.map { try SweepPoint.levels($0) }
        let peerPoints = try peer.map { try SweepPoint.load($0) }
        let exchange = makeExchange(inputs)
        let path = httpSocket ?? socket
        let protocolName = httpSocket == nil ? "jsonrpc" : "http"
        do {
            let warm = try AgentClient(path: path)
            for i in 0..<warmup { _ = try exchange(warm, i) }
        } catch { throw CLIError("\(error)") }

        guard let levels else {
            let report = measure(concurrency: concurrency, path: path, exchange: exchange).report()
            if json {
                print(JSONWriter.compact(.object([("catalogue", .string(catalogue)), ("method", .string(method)),
                                                  ("protocol", .string(protocolName)),
                                                  ("concurrency", .number(JSONNumber(concurrency)))] + report.json)))
            } else {
                print("daemon:       \(path) (\(httpSocket == nil ? "JSON-RPC" : "HTTP")), catalogue \(catalogue), method \(method), \(concurrency) client(s)")
                print(report.text)
            }
            return
        }
        var points: [SweepPoint] = []
        if !json {
            print("daemon: \(path) (\(httpSocket == nil ? "JSON-RPC" : "HTTP")), catalogue \(catalogue), method \(method), \(requests) requests a level")
            print(SweepPoint.tableHeader)
        }
        for level in levels {
            let point = measure(concurrency: level, path: path, exchange: exchange).point(concurrency: level)
            points.append(point)
            if !json { print(point.tableRow) }
        }
        if json {
            print(JSONWriter.compact(.object([("catalogue", .string(catalogue)), ("method", .string(method)), ("protocol", .string(protocolName)),
                                              ("sweep", .array(points.map(\.json)))])))
        }
        if let svg {
            let chart = SweepChart(title: "toolrouter bench route: catalogue \(catalogue), \(method), \(requests) requests a level",
                                   series: [("ToolRouter", points)] + (peerPoints.map { [(peerLabel, $0)] } ?? []))
            do { try chart.svg().write(toFile: svg, atomically: true, encoding: .utf8) } catch { throw CLIError("\(svg): \(error)") }
            if !json { print("chart:  \(svg)") }
        }
    }

    /// One request `i` (the prompts taken in turn) on a client, over JSON-RPC or HTTP; the answer in JSON-RPC's shape.
    private func makeExchange(_ inputs: [String]) -> @Sendable (AgentClient, Int) throws -> JSONValue {
        let method = self.method, catalogue = self.catalogue
        if httpSocket != nil {
            return { client, i in
                let body = JSONWriter.compact(.object([("model", .string(catalogue)),
                                                       ("messages", .array([.object([("role", .string("user")), ("content", .string(inputs[i % inputs.count]))])])),
                                                       ("toolrouter", .object([("dispatch", .bool(method == "call"))]))]))
                let answer = try HTTPExchange.post(client, path: "/v1/chat/completions", body: body)
                // The same shape as the JSON-RPC answers: timings under result, an error when not 200.
                return .object([("result", .object([("timings", answer.body["toolrouter"]?["timings"] ?? .null)]))]
                               + (answer.status == 200 ? [] : [("error", answer.body["error"] ?? .null)]))
            }
        }
        return { client, i in
            let line = JSONWriter.compact(.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(i))), ("method", .string(method)),
                                                   ("params", .object([("catalogue", .string(catalogue)), ("input", .string(inputs[i % inputs.count]))]))]))
            return try JSONParser.parse(try client.request(line, timeout: 600))
        }
    }

    /// `requests` requests from `concurrency` clients (a connection and a thread each), taking the next
    /// request number as each answer comes back.
    private func measure(concurrency: Int, path: String, exchange: @escaping @Sendable (AgentClient, Int) throws -> JSONValue) -> Samples {
        let samples = Samples()
        let next = Samples.Counter()
        let start = MonotonicClock.now()
        let requests = self.requests
        let threads = (0..<max(1, concurrency)).map { _ in
            Thread {
                guard let client = try? AgentClient(path: path) else { samples.fail(); return }
                while true {
                    let i = next.take()
                    guard i < requests else { return }
                    let t0 = MonotonicClock.now()
                    guard let value = try? exchange(client, i) else { samples.fail(); return }
                    samples.add(total: (MonotonicClock.now() - t0) * 1000, timings: value["result"]?["timings"], error: value["error"] != nil)
                }
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.01) }   // joining the clients, not synchronising
        samples.seconds = MonotonicClock.now() - start
        return samples
    }
}

/// Latencies collected from the client threads.
private final class Samples: @unchecked Sendable {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func take() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value - 1 }
    }

    private let lock = NSLock()
    private var totals: [Double] = []
    private var overheads: [Double] = []
    private var phases: [String: [Double]] = [:]
    private var errors = 0
    private var failures = 0
    /// Wall time of the whole measurement.
    var seconds = 0.0
    static let phaseNames = ["queue_ms", "prefill_ms", "decode_ms", "mask_ms", "validate_ms", "dispatch_ms", "total_ms"]

    func add(total: Double, timings: JSONValue?, error: Bool) {
        lock.lock(); defer { lock.unlock() }
        totals.append(total)
        if error { errors += 1 }
        // What the protocol and the client cost beyond the daemon's own end-to-end time.
        if let inside = timings?["total_ms"]?.doubleValue { overheads.append(total - inside) }
        for name in Self.phaseNames { if let v = timings?[name]?.doubleValue { phases[name, default: []].append(v) } }
    }

    func fail() { lock.lock(); failures += 1; lock.unlock() }

    /// The q-quantile of `values` (nearest rank below; 0 when empty).
    static func pct(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))]
    }

    /// Throughput and client-side percentiles, as one point of a sweep.
    func point(concurrency: Int) -> SweepPoint {
        lock.lock(); defer { lock.unlock() }
        return SweepPoint(concurrency: concurrency, requests: totals.count, errors: errors + failures,
                          throughput: Double(totals.count) / max(seconds, 1e-9),
                          p50: Self.pct(totals, 0.5), p95: Self.pct(totals, 0.95), p99: Self.pct(totals, 0.99))
    }

    func report() -> (text: String, json: [(key: String, value: JSONValue)]) {
        lock.lock(); defer { lock.unlock() }
        let pct = Self.pct
        func num(_ v: Double) -> JSONValue { .number(JSONNumber(literal: String(format: "%.2f", v))) }
        var lines = [String(format: "requests:     %d answered (%d errors, %d failed connections) in %.2f s = %.1f requests/s",
                            totals.count, errors, failures, seconds, Double(totals.count) / seconds),
                     String(format: "client total: p50 %.1f  p95 %.1f  p99 %.1f ms", pct(totals, 0.5), pct(totals, 0.95), pct(totals, 0.99)),
                     String(format: "protocol:     p50 %.2f  p95 %.2f  p99 %.2f ms (client total minus the daemon's total_ms)",
                            pct(overheads, 0.5), pct(overheads, 0.95), pct(overheads, 0.99))]
        var json: [(key: String, value: JSONValue)] = [
            ("requests", .number(JSONNumber(totals.count))), ("errors", .number(JSONNumber(errors))),
            ("throughput_rps", num(Double(totals.count) / seconds)),
            ("client_ms", .object([("p50", num(pct(totals, 0.5))), ("p95", num(pct(totals, 0.95))), ("p99", num(pct(totals, 0.99)))])),
            ("protocol_ms", .object([("p50", num(pct(overheads, 0.5))), ("p95", num(pct(overheads, 0.95))), ("p99", num(pct(overheads, 0.99)))])),
        ]
        for name in Self.phaseNames {
            let values = phases[name] ?? []
            lines.append(String(format: "%@ p50 %.2f  p95 %.2f  p99 %.2f ms", (name.replacingOccurrences(of: "_ms", with: ":") as NSString).padding(toLength: 13, withPad: " ", startingAt: 0),
                                pct(values, 0.5), pct(values, 0.95), pct(values, 0.99)))
            json.append((name, .object([("p50", num(pct(values, 0.5))), ("p95", num(pct(values, 0.95))), ("p99", num(pct(values, 0.99)))])))
        }
        return (lines.joined(separator: "\n"), json)
    }
}

/// One HTTP/1.1 request on a kept-alive connection, for the benchmark: the request written whole, the
/// answer's head read line by line and its body by Content-Length (the daemon always sends one).
enum HTTPExchange {
    static func post(_ client: AgentClient, path: String, body: String) throws -> (status: Int, body: JSONValue) {
        let bytes = Array(body.utf8)
        try client.write(Array("POST \(path) HTTP/1.1\r\nhost: toolrouter\r\ncontent-type: application/json\r\ncontent-length: \(bytes.count)\r\n\r\n".utf8) + bytes)
        let statusLine = try client.readLine(timeout: 600)
        guard let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw CLIError("not an HTTP status line: \(statusLine)")
        }
        var length = 0
        while true {
            let line = try client.readLine(timeout: 600).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { break }
            if line.lowercased().hasPrefix("content-length:") { length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0 }
        }
        return (status, try JSONParser.parse(bytes: try client.read(count: length, timeout: 600)))
    }
}
