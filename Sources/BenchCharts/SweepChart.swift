// A concurrency sweep as an SVG chart: latency percentiles (left panel) and throughput (right panel)
// against the number of clients, one colour per percentile, one line style per series (ToolRouter solid,
// a peer dashed). Plain SVG 1.1 with no script or external reference, so it renders in a browser, in a
// GitHub README and in an image viewer alike.

import Foundation

/// The chart of one or more sweeps.
public struct SweepChart {
    /// The line above both panels.
    public let title: String
    /// Named sweeps; the first is drawn solid, the others dashed.
    public let series: [(name: String, points: [SweepPoint])]

    public init(title: String, series: [(name: String, points: [SweepPoint])]) {
        self.title = title
        self.series = series.map { ($0.name, $0.points.sorted { $0.concurrency < $1.concurrency }) }
    }

    // Layout, in SVG user units.
    static let width = 920.0, height = 420.0
    static let panelWidth = 360.0, panelHeight = 280.0, top = 60.0
    static let lefts = [80.0, 540.0]
    static let percentileColours = [("p50", "#1f77b4"), ("p95", "#ff7f0e"), ("p99", "#d62728")]
    static let throughputColour = "#2ca02c"

    /// The chart as an SVG document.
    public func svg() -> String {
        let levels = Array(Set(series.flatMap { $0.points.map(\.concurrency) })).sorted()
        let latencyTop = Self.niceCeiling(series.flatMap { $0.points.map(\.p99) }.max() ?? 1)
        let throughputTop = Self.niceCeiling(series.flatMap { $0.points.map(\.throughput) }.max() ?? 1)
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.f(Self.width))" height="\(Self.f(Self.height))" \
        viewBox="0 0 \(Self.f(Self.width)) \(Self.f(Self.height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Self.f(Self.width / 2))" y="24" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        out += panel(left: Self.lefts[0], levels: levels, yTop: latencyTop, yLabel: "client latency (ms)")
        out += panel(left: Self.lefts[1], levels: levels, yTop: throughputTop, yLabel: "throughput (requests/s)")
        for (index, (name, points)) in series.enumerated() {
            let dash = index == 0 ? "" : " stroke-dasharray=\"6 4\""
            for (label, colour) in Self.percentileColours {
                let values = points.map { p -> (Int, Double) in (p.concurrency, label == "p50" ? p.p50 : label == "p95" ? p.p95 : p.p99) }
                out += line(left: Self.lefts[0], levels: levels, yTop: latencyTop, values: values, colour: colour, dash: dash,
                            name: "\(name) \(label)")
            }
            out += line(left: Self.lefts[1], levels: levels, yTop: throughputTop, values: points.map { ($0.concurrency, $0.throughput) },
                        colour: Self.throughputColour, dash: dash, name: "\(name) throughput")
        }
        out += legend()
        return out + "</svg>\n"
    }

    /// Axes, grid and tick labels of one panel.
    private func panel(left: Double, levels: [Int], yTop: Double, yLabel: String) -> String {
        let bottom = Self.top + Self.panelHeight
        var out = "<g class=\"panel\">\n"
        for k in 0...4 {
            let value = yTop * Double(k) / 4, y = bottom - Self.panelHeight * Double(k) / 4
            out += "<line x1=\"\(Self.f(left))\" y1=\"\(Self.f(y))\" x2=\"\(Self.f(left + Self.panelWidth))\" y2=\"\(Self.f(y))\" stroke=\"#dddddd\"/>\n"
            out += "<text x=\"\(Self.f(left - 6))\" y=\"\(Self.f(y + 4))\" text-anchor=\"end\">\(Self.tick(value))</text>\n"
        }
        for level in levels {
            let x = xPosition(level, levels: levels, left: left)
            out += "<text x=\"\(Self.f(x))\" y=\"\(Self.f(bottom + 18))\" text-anchor=\"middle\">\(level)</text>\n"
        }
        out += "<line x1=\"\(Self.f(left))\" y1=\"\(Self.f(bottom))\" x2=\"\(Self.f(left + Self.panelWidth))\" y2=\"\(Self.f(bottom))\" stroke=\"black\"/>\n"
        out += "<line x1=\"\(Self.f(left))\" y1=\"\(Self.f(Self.top))\" x2=\"\(Self.f(left))\" y2=\"\(Self.f(bottom))\" stroke=\"black\"/>\n"
        out += "<text x=\"\(Self.f(left + Self.panelWidth / 2))\" y=\"\(Self.f(bottom + 38))\" text-anchor=\"middle\">concurrent clients</text>\n"
        out += "<text x=\"\(Self.f(left))\" y=\"\(Self.f(Self.top - 10))\">\(Self.escape(yLabel))</text>\n"
        return out + "</g>\n"
    }

    /// One series as a polyline with a dot at each point.
    private func line(left: Double, levels: [Int], yTop: Double, values: [(Int, Double)], colour: String, dash: String, name: String) -> String {
        let bottom = Self.top + Self.panelHeight
        let coordinates = values.map { (xPosition($0.0, levels: levels, left: left), bottom - Self.panelHeight * min($0.1, yTop) / yTop) }
        var out = "<g class=\"series\" data-name=\"\(Self.escape(name))\">\n"
        out += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash) points=\"\(coordinates.map { "\(Self.f($0.0)),\(Self.f($0.1))" }.joined(separator: " "))\"/>\n"
        for (x, y) in coordinates { out += "<circle cx=\"\(Self.f(x))\" cy=\"\(Self.f(y))\" r=\"3\" fill=\"\(colour)\"/>\n" }
        return out + "</g>\n"
    }

    /// Colours (percentiles, throughput) and line styles (series).
    private func legend() -> String {
        var out = "<g class=\"legend\">\n"
        var x = 80.0
        let y = Self.height - 24
        for (label, colour) in Self.percentileColours + [("throughput", Self.throughputColour)] {
            out += "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y - 9))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>\n"
            out += "<text x=\"\(Self.f(x + 16))\" y=\"\(Self.f(y + 1))\">\(label)</text>\n"
            x += 100
        }
        for (index, entry) in series.enumerated() {
            let dash = index == 0 ? "" : " stroke-dasharray=\"6 4\""
            out += "<line x1=\"\(Self.f(x))\" y1=\"\(Self.f(y - 3))\" x2=\"\(Self.f(x + 28))\" y2=\"\(Self.f(y - 3))\" stroke=\"black\" stroke-width=\"2\"\(dash)/>\n"
            out += "<text x=\"\(Self.f(x + 34))\" y=\"\(Self.f(y + 1))\">\(Self.escape(entry.name))</text>\n"
            x += 150
        }
        return out + "</g>\n"
    }

    /// Clients on a log2 axis (1, 2, 4, 8, 16 evenly spaced), the levels spanning the panel with a margin.
    private func xPosition(_ level: Int, levels: [Int], left: Double) -> Double {
        let lo = log2(Double(levels.first ?? 1)), hi = log2(Double(levels.last ?? 1))
        let margin = 20.0
        guard hi > lo else { return left + Self.panelWidth / 2 }
        return left + margin + (Self.panelWidth - 2 * margin) * (log2(Double(level)) - lo) / (hi - lo)
    }

    /// The axis top: the first of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 times a power of ten at or above `value`,
    /// so the curves fill most of the panel and the quarter ticks stay round.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] where step * power >= value * (1 - 1e-12) { return step * power }
        return 10 * power
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func tick(_ v: Double) -> String { String(format: "%g", v) }

    /// Text made safe inside an SVG element or attribute.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
