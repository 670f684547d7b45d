// The daemon's numbers in the Prometheus text format (swift-prometheus): requests by operation (route,
// call, list, health, stats), protocol, catalogue, tool and outcome; per-phase latency histograms; queue
// depth; prompt, prefill and generated tokens; prefix-cache hits; handler calls by outcome. Served by
// the `stats` method (`{"format": "prometheus"}`), `GET /metrics` on the HTTP socket, and printed by
// `toolrouter metrics`.
//
// Label values come only from bounded sets — loaded catalogue names, their tool names, fixed operation,
// protocol and outcome names — so a client sending made-up names cannot grow the registry without bound.

import Prometheus

/// Counters, gauges and histograms of one daemon.
public final class DaemonMetrics: Sendable {
    /// The registry everything is kept in.
    public let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let promptTokens: Counter
    private let prefillTokens: Counter
    private let generatedTokens: Counter
    private let prefixHits: Counter
    private let cachedTokens: Counter

    /// Latency buckets, in seconds: 1 ms … 10 s.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10]
    /// The phases a routed request's time is split into.
    static let phases = ["queue", "prefill", "decode", "mask", "validate", "dispatch", "total"]

    /// A registry with the daemon's metrics.
    public init() {
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", "", "Requests waiting for the inference worker."))
        promptTokens = registry.makeCounter(descriptor: Self.name("prompt_tokens", "total", "Prompt tokens of routed requests, cached or not."))
        prefillTokens = registry.makeCounter(descriptor: Self.name("prefill_tokens", "total", "Prompt tokens evaluated (not served from the prefix cache)."))
        generatedTokens = registry.makeCounter(descriptor: Self.name("generated_tokens", "total", "Tokens generated, sampled or jump-forward."))
        prefixHits = registry.makeCounter(descriptor: Self.name("prefix_cache_hits", "total", "Requests that started from a catalogue's cached prefix."))
        cachedTokens = registry.makeCounter(descriptor: Self.name("prefix_cached_tokens", "total", "Prompt tokens served from prefix caches."))
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "toolrouter", metricName: metric, unitName: unit, helpText: help)
    }

    /// Records one finished operation. `catalogue` and `tool` must already be bounded (loaded names, or
    /// `-`/`unknown`/`adhoc`); `timings` are in milliseconds (nil when the request did not route).
    func record(operation: String, protocol proto: String, catalogue: String, tool: String, outcome: String,
                timings: [String: Double]?, tokens: (prompt: Int, cached: Int, generated: Int)?) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "Answered requests by operation, protocol, catalogue, tool and outcome."),
                             labels: [("operation", operation), ("protocol", proto), ("catalogue", catalogue), ("tool", tool),
                                      ("outcome", outcome)]).increment()
        if let timings {
            for phase in Self.phases {
                guard let ms = timings[phase] else { continue }
                registry.makeValueHistogram(descriptor: Self.name("phase", "seconds", "Time per request phase."),
                                            labels: [("phase", phase), ("catalogue", catalogue)], buckets: Self.buckets).record(ms / 1000)
            }
        }
        if let tokens {
            promptTokens.increment(by: Int64(tokens.prompt))
            prefillTokens.increment(by: Int64(tokens.prompt - tokens.cached))
            generatedTokens.increment(by: Int64(tokens.generated))
            if tokens.cached > 0 { prefixHits.increment() }
            cachedTokens.increment(by: Int64(tokens.cached))
        }
    }

    /// Records a request refused before it named an operation (not parseable, too large, unknown method).
    func recordRefused(protocol proto: String) {
        registry.makeCounter(descriptor: Self.name("refused_requests", "total", "Requests refused before they named an operation, by protocol."),
                             labels: [("protocol", proto)]).increment()
    }

    /// Records one dispatch to a handler: `ok`, `failed`, `timed_out` or `no_handler`.
    func recordHandlerCall(catalogue: String, tool: String, outcome: String) {
        registry.makeCounter(descriptor: Self.name("handler_calls", "total", "Calls dispatched to handlers, by outcome."),
                             labels: [("catalogue", catalogue), ("tool", tool), ("outcome", outcome)]).increment()
    }

    /// The exposition text, with the queue depth as of now.
    public func text(queued: Int) -> String {
        queueDepth.set(Double(queued))
        return registry.emitToString()
    }
}
