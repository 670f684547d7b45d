// The sweep chart and the sweep's points: well-formed SVG with one line per series and percentile, points where
// the numbers put them, peer files read back, bad --sweep lists refused with the reason.

import BenchCharts
import Foundation
import FoundationXML
import JSON
import Testing

@Suite("Sweep chart")
struct SweepChartTests {
    static let ours = [SweepPoint(concurrency: 1, requests: 50, errors: 0, throughput: 7.4, p50: 102, p95: 130, p99: 150),
                       SweepPoint(concurrency: 4, requests: 50, errors: 0, throughput: 20.5, p50: 190, p95: 260, p99: 300),
                       SweepPoint(concurrency: 2, requests: 50, errors: 0, throughput: 13.0, p50: 140, p95: 170, p99: 210),
                       SweepPoint(concurrency: 8, requests: 50, errors: 3, throughput: 29.9, p50: 260, p95: 410, p99: 480)]
    static let peer = [SweepPoint(concurrency: 1, requests: 50, errors: 0, throughput: 3.1, p50: 320, p95: 350, p99: 360),
                       SweepPoint(concurrency: 8, requests: 50, errors: 0, throughput: 3.3, p50: 2400, p95: 2600, p99: 2700)]

    /// Every element under `element`, depth first.
    func descendants(_ element: XMLElement) -> [XMLElement] {
        let children = (element.children ?? []).compactMap { $0 as? XMLElement }
        return children + children.flatMap(descendants)
    }

    /// The value of `element`'s attribute `name` (read from the attribute list: FoundationXML's
    /// `attribute(forName:)` returned nil for every attribute of this document in FoundationXML on Linux).
    func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.name == name }?.stringValue
    }

    /// The polyline of the series named `name` ("ToolRouter p50", "peer throughput"…) as (x, y) pairs.
    func polyline(_ document: XMLDocument, _ name: String) throws -> [(Double, Double)] {
        let root = try #require(document.rootElement())
        let group = try #require(descendants(root).first { $0.name == "g" && attribute($0, "data-name") == name }, "no line named \(name)")
        let line = try #require(descendants(group).first { $0.name == "polyline" }, "\(name) has no polyline")
        let points = try #require(attribute(line, "points"), "\(name) has no points")
        return points.split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").compactMap { Double($0) }
            return (xy[0], xy[1])
        }
    }

    @Test("the SVG parses as XML; a line per percentile and for throughput, per series; x by log2 of the clients, y by value")
    func chartGeometry() throws {
        let svg = SweepChart(title: "route <support> & co", series: [("ToolRouter", Self.ours), ("peer", Self.peer)]).svg()
        let document = try XMLDocument(xmlString: svg)
        #expect(document.rootElement()?.name == "svg")
        for series in ["ToolRouter", "peer"] {
            for line in ["p50", "p95", "p99", "throughput"] {
                let points = try polyline(document, "\(series) \(line)")
                #expect(points.count == (series == "peer" ? 2 : 4), "\(series) \(line)")
            }
        }
        // Sorted by clients, evenly spaced on a log2 axis: 1, 2, 4, 8.
        let p50 = try polyline(document, "ToolRouter p50")
        let steps = zip(p50, p50.dropFirst()).map { $1.0 - $0.0 }
        #expect(steps.allSatisfy { abs($0 - steps[0]) < 0.2 && $0 > 0 }, "\(steps)")
        // Higher latency is higher on the page (smaller y); p99 above p50 at every level.
        #expect(zip(p50, p50.dropFirst()).allSatisfy { $1.1 < $0.1 })
        let p99 = try polyline(document, "ToolRouter p99")
        #expect(zip(p50, p99).allSatisfy { $1.1 < $0.1 })
        // Values scale linearly from the axis: the peer's 2,700 ms p99 sets a 3,000 ms top, so 2,400 ms sits at 80%.
        let peerP50 = try polyline(document, "peer p50")
        let bottom = 60.0 + 280.0
        #expect(abs((bottom - peerP50[1].1) / 280.0 - 2400.0 / 3000.0) < 0.002)
        #expect(svg.contains(">3000</text>") && svg.contains(">750</text>"))
        // The peer is dashed, ToolRouter solid; the title is escaped, not broken.
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.contains("route &lt;support&gt; &amp; co"))
    }

    @Test("axis tops: the next round value at or above the largest point, with quarter ticks")
    func niceCeilings() {
        let chart = SweepChart(title: "t", series: [("a", [SweepPoint(concurrency: 1, requests: 1, errors: 0, throughput: 0.7, p50: 1, p95: 1, p99: 1)])])
        let svg = chart.svg()
        #expect(svg.contains(">1</text>") && svg.contains(">0.25</text>") && svg.contains(">0.5</text>"))   // p99 1 ms: top 1
        #expect(svg.contains(">0.8</text>") && svg.contains(">0.2</text>"))                                // 0.7 req/s: top 0.8
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test("a sweep's JSON reads back as the same points; a peer file may be a bare array; a bad file names what is missing")
    func peerFiles() throws {
        let dir = NSTemporaryDirectory() + "sweep-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrapped = dir + "/ours.json", bare = dir + "/peer.json", bad = dir + "/bad.json"
        try JSONWriter.compact(.object([("sweep", .array(Self.ours.map(\.json)))])).write(toFile: wrapped, atomically: true, encoding: .utf8)
        try JSONWriter.compact(.array(Self.peer.map(\.json))).write(toFile: bare, atomically: true, encoding: .utf8)
        try #"[{"concurrency": 1, "throughput_rps": 2}]"#.write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(try SweepPoint.load(wrapped) == Self.ours)
        #expect(try SweepPoint.load(bare) == Self.peer)
        do {
            _ = try SweepPoint.load(bad)
            Issue.record("a point without percentiles was accepted")
        } catch {
            #expect(error.description.contains("client_ms.p50"), "\(error)")
        }
        #expect(throws: SweepPoint.Problem.self) { try SweepPoint.load(dir + "/missing.json") }
    }

    @Test("--sweep lists: positive counts in the order given; zero, words, blanks and repeats refused with the reason")
    func levels() throws {
        #expect(try SweepPoint.levels("1,2,4,8,16") == [1, 2, 4, 8, 16])
        #expect(try SweepPoint.levels(" 8, 1 ") == [8, 1])
        for (text, reason) in [("0,1", "'0' is not a client count"), ("1,two", "'two'"), ("1,,2", "'' is not"), ("2,2", "listed twice"),
                               ("1,5000", "'5000'")] {
            do {
                _ = try SweepPoint.levels(text)
                Issue.record("\(text) accepted")
            } catch {
                #expect(error.description.contains(reason), "\(text): \(error)")
            }
        }
    }
}
