// One level of a concurrency sweep (`toolrouter bench route --sweep`): how many clients, what they got.

import Foundation
import JSON

/// Throughput and client-side latency percentiles at one concurrency.
public struct SweepPoint: Sendable, Equatable {
    /// Concurrent clients.
    public let concurrency: Int
    /// Requests answered.
    public let requests: Int
    /// Answers that were errors (e.g. `overloaded`) plus clients that could not connect.
    public let errors: Int
    /// Requests answered a second.
    public let throughput: Double
    /// Client-side latency percentiles, milliseconds.
    public let p50: Double, p95: Double, p99: Double

    public init(concurrency: Int, requests: Int, errors: Int, throughput: Double, p50: Double, p95: Double, p99: Double) {
        self.concurrency = concurrency
        self.requests = requests
        self.errors = errors
        self.throughput = throughput
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    /// Why a sweep or a peer's file could not be used.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The levels of `--sweep 1,2,4,8`: positive integers, in the order given, no repeats.
    public static func levels(_ text: String) throws(Problem) -> [Int] {
        var levels: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let level = Int(trimmed), level > 0, level <= 1024 else {
                throw Problem(description: "--sweep: '\(trimmed)' is not a client count from 1 to 1024 (expected e.g. 1,2,4,8,16)")
            }
            guard !levels.contains(level) else { throw Problem(description: "--sweep: \(level) is listed twice") }
            levels.append(level)
        }
        return levels
    }

    /// As JSON: `{"concurrency", "requests", "errors", "throughput_rps", "client_ms": {"p50", "p95", "p99"}}`.
    public var json: JSONValue {
        func num(_ v: Double) -> JSONValue { .number(JSONNumber(literal: String(format: "%.2f", v))) }
        return .object([("concurrency", .number(JSONNumber(concurrency))), ("requests", .number(JSONNumber(requests))),
                        ("errors", .number(JSONNumber(errors))), ("throughput_rps", num(throughput)),
                        ("client_ms", .object([("p50", num(p50)), ("p95", num(p95)), ("p99", num(p99))]))])
    }

    /// The point a sweep's JSON element describes.
    public init(json: JSONValue) throws(Problem) {
        guard let concurrency = json["concurrency"]?.intValue, let throughput = json["throughput_rps"]?.doubleValue,
              let p50 = json["client_ms"]?["p50"]?.doubleValue, let p95 = json["client_ms"]?["p95"]?.doubleValue,
              let p99 = json["client_ms"]?["p99"]?.doubleValue else {
            throw Problem(description: "a sweep point needs concurrency, throughput_rps and client_ms.p50/p95/p99: \(JSONWriter.compact(json))")
        }
        self.init(concurrency: concurrency, requests: json["requests"]?.intValue ?? 0, errors: json["errors"]?.intValue ?? 0,
                  throughput: throughput, p50: p50, p95: p95, p99: p99)
    }

    /// The points of a file holding a sweep (`{"sweep": [...]}`, as `bench route --sweep --json` prints) or a bare array.
    public static func load(_ path: String) throws(Problem) -> [SweepPoint] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Problem(description: "\(path): cannot read the file")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw Problem(description: "\(path): \(error)") }
        guard let items = value["sweep"]?.arrayValue ?? value.arrayValue, !items.isEmpty else {
            throw Problem(description: "\(path): expected {\"sweep\": [...]} or an array of points")
        }
        var points: [SweepPoint] = []
        for item in items {
            do { points.append(try SweepPoint(json: item)) } catch { throw Problem(description: "\(path): \(error.description)") }
        }
        return points
    }

    /// The table's header line.
    public static let tableHeader = "clients  requests  errors  throughput (req/s)    p50 ms    p95 ms    p99 ms"

    /// This point as a line of the table.
    public var tableRow: String {
        String(format: "%7d  %8d  %6d  %18.1f  %8.1f  %8.1f  %8.1f", concurrency, requests, errors, throughput, p50, p95, p99)
    }
}
