import Foundation

/// Draws latency percentiles per mode per loss level as grouped bars on a log-scale millisecond axis.
///
/// Each bar is one mode at one loss level: a solid part up to p50, a pale part up to p99, a tick at
/// p90 and a dot at the maximum. Hand-written SVG 1.1, no scripts, readable without the table.
struct SVGChart {
    var report: Report

    private let width = 1010.0
    private let height = 560.0
    private let plotLeft = 80.0
    private let plotRight = 780.0
    private let plotTop = 70.0
    private let plotBottom = 480.0

    static let colors: [Mode: String] = [
        .udp: "#1f77b4", .udpPointToPoint: "#17becf", .tcp: "#d62728", .udpEcho: "#7aa6c2", .tcpEcho: "#d59a8f",
        .udpPlaintext: "#9467bd", .tcpPlaintext: "#ff7f0e",
    ]
    /// Chat while a file moves between the same two users (issue 12).
    static let fileColors: [Mode: String] = [.udp: "#0b3c5d", .tcp: "#6b0f12"]

    /// The SVG document.
    func render() -> String {
        let (low, high) = axisRange()
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\""
                + " viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
        parts += titles()
        parts += axis(low: low, high: high)
        parts += bars(low: low, high: high)
        parts += legend()
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    private func titles() -> [String] {
        let loss = report.lossKind == .kernel
            ? "kernel loss (nftables on loopback input): every mode faces it"
            : "simulated loss: udp only; tcp and echo rows ran without loss"
        return [
            text(x: plotLeft, y: 30, "Chat latency by mode and loss level", size: 20, weight: "bold"),
            text(x: plotLeft, y: 52, "\(report.messages) messages of \(report.size) B at \(report.rate)/s; \(loss)",
                 size: 13, fill: "#444"),
        ]
    }

    private func axisRange() -> (Double, Double) {
        let values = report.levels.flatMap { $0.results.flatMap { [$0.chat?.latency, $0.file?.latency].compactMap { $0 } } }
            .flatMap { [$0.p50, $0.max] }.filter { $0 > 0 }
        let low = values.min() ?? 0.01
        let high = values.max() ?? 1000
        let bottom = Self.decade(below: low)
        return (bottom, max(Self.decade(above: high), bottom * 10))
    }

    static func decade(below value: Double) -> Double {
        var decade = 1.0
        while decade > value { decade /= 10 }
        while decade * 10 <= value { decade *= 10 }
        return decade
    }

    static func decade(above value: Double) -> Double {
        var decade = 1.0
        while decade < value { decade *= 10 }
        while decade / 10 >= value { decade /= 10 }
        return decade
    }

    private func y(_ milliseconds: Double, low: Double, high: Double) -> Double {
        let clamped = min(max(milliseconds, low), high)
        let fraction = (log10(clamped) - log10(low)) / (log10(high) - log10(low))
        return plotBottom - fraction * (plotBottom - plotTop)
    }

    private func axis(low: Double, high: Double) -> [String] {
        var parts: [String] = []
        var decade = low
        while decade <= high * 1.0001 {
            for multiple in [1.0, 2, 5] where decade * multiple <= high * 1.0001 {
                let value = decade * multiple
                let lineY = y(value, low: low, high: high)
                let isMajor = multiple == 1
                parts.append(line(x1: plotLeft, y1: lineY, x2: plotRight, y2: lineY,
                                  stroke: isMajor ? "#bbb" : "#e6e6e6", width: 1))
                parts.append(text(x: plotLeft - 8, y: lineY + 4, Self.label(value), size: isMajor ? 12 : 10,
                                  fill: isMajor ? "#333" : "#888", anchor: "end"))
            }
            decade *= 10
        }
        parts.append(line(x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: "#333", width: 1))
        parts.append(line(x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom, stroke: "#333", width: 1))
        parts.append("<text x=\"22\" y=\"\((plotTop + plotBottom) / 2)\" font-size=\"13\" fill=\"#333\" text-anchor=\"middle\""
            + " transform=\"rotate(-90 22 \((plotTop + plotBottom) / 2))\">latency, ms (log scale)</text>")
        return parts
    }

    static func label(_ value: Double) -> String {
        value >= 1 ? formatFixed(value, decimals: 0) : formatSignificant(value).trimmingTrailingZeros
    }

    private func bars(low: Double, high: Double) -> [String] {
        let levels = report.levels
        guard !levels.isEmpty else { return [] }
        let groupWidth = (plotRight - plotLeft) / Double(levels.count)
        var parts: [String] = []
        for (index, level) in levels.enumerated() {
            let groupLeft = plotLeft + Double(index) * groupWidth
            // Each mode's chat, then udp's and tcp's chat while a file moves (issue 12), side by side.
            let series = level.results.compactMap { result in result.chat?.latency.map { ($0, Self.colors[result.mode] ?? "#888") } }
                + level.results.compactMap { result in result.file?.latency.map { ($0, Self.fileColors[result.mode] ?? "#444") } }
            let barWidth = min(34, (groupWidth - 24) / Double(max(1, series.count)))
            let start = groupLeft + (groupWidth - barWidth * Double(series.count)) / 2
            for (slot, (latency, color)) in series.enumerated() {
                let x = start + Double(slot) * barWidth
                parts += bar(latency, color: color, x: x, width: barWidth - 4, low: low, high: high)
            }
            let marked = report.lossKind == .simulated && level.lossPercent > 0 ? " (udp only)" : ""
            parts.append(text(x: groupLeft + groupWidth / 2, y: plotBottom + 22, "\(level.lossPercent) % loss\(marked)",
                              size: 13, anchor: "middle"))
        }
        return parts
    }

    private func bar(_ latency: LatencySummary, color: String, x: Double, width: Double, low: Double, high: Double) -> [String] {
        let p50 = y(latency.p50, low: low, high: high)
        let p90 = y(latency.p90, low: low, high: high)
        let p99 = y(latency.p99, low: low, high: high)
        let top = y(latency.max, low: low, high: high)
        return [
            rect(x: x, y: p99, width: width, height: plotBottom - p99, fill: color, opacity: 0.3),
            rect(x: x, y: p50, width: width, height: plotBottom - p50, fill: color, opacity: 1),
            line(x1: x, y1: p90, x2: x + width, y2: p90, stroke: color, width: 2),
            line(x1: x + width / 2, y1: top, x2: x + width / 2, y2: p99, stroke: color, width: 1),
            "<circle cx=\(attribute(x + width / 2)) cy=\(attribute(top)) r=\"3\" fill=\"\(color)\"/>",
        ]
    }

    private func legend() -> [String] {
        var parts: [String] = []
        var legendY = plotTop + 10
        for mode in Mode.allCases {
            parts.append(rect(x: plotRight + 30, y: legendY - 11, width: 14, height: 14, fill: Self.colors[mode] ?? "#888", opacity: 1))
            let caption = mode.isBaseline ? "\(mode.rawValue) (round trip)"
                : mode == .udpPointToPoint ? "\(mode.rawValue) (one-way, no relay)" : "\(mode.rawValue) (one-way, relay)"
            parts.append(text(x: plotRight + 52, y: legendY, caption, size: 13))
            legendY += 24
        }
        if report.levels.contains(where: { $0.results.contains { $0.file != nil } }) {
            for mode in [Mode.udp, .tcp] {
                parts.append(rect(x: plotRight + 30, y: legendY - 11, width: 14, height: 14, fill: Self.fileColors[mode] ?? "#444", opacity: 1))
                parts.append(text(x: plotRight + 52, y: legendY, "\(mode.rawValue) while a file moves", size: 13))
                legendY += 24
            }
        }
        legendY += 12
        for caption in ["solid: up to p50", "pale: up to p99", "bar across: p90", "dot: maximum"] {
            parts.append(text(x: plotRight + 30, y: legendY, caption, size: 12, fill: "#444"))
            legendY += 20
        }
        return parts
    }

    private func text(x: Double, y: Double, _ content: String, size: Int, weight: String = "normal",
                      fill: String = "#222", anchor: String = "start") -> String {
        "<text x=\(attribute(x)) y=\(attribute(y)) font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\""
            + " text-anchor=\"\(anchor)\">\(Self.escape(content))</text>"
    }

    private func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double) -> String {
        "<line x1=\(attribute(x1)) y1=\(attribute(y1)) x2=\(attribute(x2)) y2=\(attribute(y2)) stroke=\"\(stroke)\""
            + " stroke-width=\(attribute(width))/>"
    }

    private func rect(x: Double, y: Double, width: Double, height: Double, fill: String, opacity: Double) -> String {
        "<rect x=\(attribute(x)) y=\(attribute(y)) width=\(attribute(width)) height=\(attribute(max(0, height)))"
            + " fill=\"\(fill)\" fill-opacity=\(attribute(opacity))/>"
    }

    private func attribute(_ value: Double) -> String { "\"\(formatFixed(value, decimals: 1))\"" }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

extension String {
    var trimmingTrailingZeros: String {
        guard contains(".") else { return self }
        var text = self
        while text.last == "0" { text.removeLast() }
        if text.last == "." { text.removeLast() }
        return text
    }
}
