/// Renders a `Report` as an iperf3-style text table: rows with units, a `- - -` rule, a summary.
struct TableReport {
    var report: Report

    private static let columns: [(title: String, width: Int)] = [
        ("[ Loss]", 7), ("Mode", 9), ("Delivered", 11), ("p50", 10), ("p90", 10), ("p99", 10),
        ("max", 10), ("Retrans", 8), ("Wire/B", 7), ("Bulk goodput", 14),
    ]

    /// The whole table, ending with a newline.
    func render() -> String {
        var lines = header()
        lines.append(Self.row(Self.columns.map(\.title)))
        for level in report.levels {
            for result in level.results { lines.append(Self.row(cells(result, level: level.lossPercent))) }
        }
        lines += fileRows()
        lines.append(String(repeating: "- ", count: 52).trimmingTrailingSpace)
        lines += summary()
        lines += footnotes()
        return lines.joined(separator: "\n") + "\n"
    }

    private func header() -> [String] {
        let loss = report.lossKind == .kernel
            ? "kernel (nftables drop on loopback input, private network namespace; all modes)"
            : "simulated in-process, seed \(report.seed) (udp, udp-plain and udp-p2p only; * = loss not applied)"
        return [
            "Compare: udp = Datagram over UDP via relay, tcp = same chat protocol over TCP via relay; loopback",
            "         udp-p2p = Datagram between two endpoints, no relay, no chat protocol (the layer alone)",
            "         udp and tcp are encrypted (Noise, as every session); udp-plain and tcp-plain the same without: the cost of encryption",
            "Loss: \(loss)",
            "Chat: \(report.messages) messages of \(report.size) B at \(report.rate)/s, one-way latency;"
                + " echo rows: round trip, no relay.  Bulk: \(formatBytes(report.bulkBytes)) per run.",
            "Machine: \(report.machine)",
            "",
        ]
    }

    private func cells(_ result: ModeResult, level: Int) -> [String] {
        let mark = result.isLossApplied || level == 0 ? " " : "*"
        var cells = ["[\(Self.leftPad("\(level)%", 4))\(mark)]", result.mode.rawValue]
        if let chat = result.chat {
            cells.append("\(chat.delivered)/\(chat.sent)")
            let latency = chat.latency
            cells += [latency?.p50, latency?.p90, latency?.p99, latency?.max].map { $0.map(formatMilliseconds) ?? "-" }
            cells.append(chat.retransmissions.map(String.init) ?? "-")
            cells.append(chat.wireBytesPerPayloadByte.map { formatFixed($0, decimals: 2) } ?? "-")
        } else {
            cells += Array(repeating: "-", count: 7)
        }
        cells.append(result.bulk.map { formatRate($0.megabytesPerSecond) } ?? "-")
        return cells
    }

    /// Issue 12: chat p50/p99 without and with a file moving between the same two users, and the
    /// file's goodput, per loss level, udp and tcp.
    private func fileRows() -> [String] {
        let rows = report.levels.flatMap { level in [Mode.udp, .tcp].compactMap { mode -> String? in
            guard let result = level.result(mode), let file = result.file else { return nil }
            let without = result.chat?.latency
            let with = file.latency
            func pair(_ a: Double?, _ b: Double?) -> String {
                Self.rightPad("\(a.map(formatMilliseconds) ?? "-") -> \(b.map(formatMilliseconds) ?? "-")", 24)
            }
            let mark = result.isLossApplied || level.lossPercent == 0 ? " " : "*"
            return "[\(Self.leftPad("\(level.lossPercent)%", 4))\(mark)] \(Self.rightPad(mode.rawValue, 4)) p50 \(pair(without?.p50, with?.p50))"
                + " p99 \(pair(without?.p99, with?.p99)) file \(Self.leftPad(formatRate(file.megabytesPerSecond), 11))"
                + "  (\(file.delivered)/\(file.sent) chat messages during it)"
        } }
        guard !rows.isEmpty else { return [] }
        let size = report.levels.lazy.flatMap(\.results).compactMap(\.file).first.map { formatBytes($0.fileBytes) } ?? "-"
        return ["", "Chat while a \(size) file moves between the same two users (chat without -> with the transfer; file goodput):"] + rows
    }

    private func summary() -> [String] {
        var lines = ["Summary (ratios measured in this run):"]
        for check in report.targets {
            let ratio = check.ratio.map { formatSignificant($0) } ?? "-"
            let bound = (check.isUpperBound ? "<= " : ">= ") + formatSignificant(check.limit)
            lines.append("  \(Self.rightPad(check.name, 46)) \(Self.leftPad(ratio, 7)) (target \(bound))  "
                + "\(check.verdict)  \(check.detail)")
        }
        for level in report.levels {
            if let line = overheadLine(level) { lines.append(line) }
        }
        return lines
    }

    private func overheadLine(_ level: LevelResult) -> String? {
        guard let udpResult = level.result(.udp), let tcpResult = level.result(.tcp),
              let udp = udpResult.chat?.latency, let tcp = tcpResult.chat?.latency,
              tcp.p99 > 0, udp.p99 > 0 else { return nil }
        // A ratio is only honest when both modes faced the same loss.
        guard level.lossPercent == 0 || (udpResult.isLossApplied && tcpResult.isLossApplied) else {
            return "  at \(level.lossPercent)% loss: no udp-vs-tcp ratio (tcp faced no loss; simulated loss reaches udp only)"
        }
        let ratio = tcp.p99 / udp.p99
        return "  at \(level.lossPercent)% loss: tcp p99 is \(formatSignificant(ratio))x udp p99"
            + " (\(formatMilliseconds(tcp.p99)) vs \(formatMilliseconds(udp.p99)))"
    }

    private func footnotes() -> [String] {
        var lines: [String] = []
        if report.lossKind == .simulated && report.levels.contains(where: { $0.lossPercent > 0 }) {
            lines.append("* Simulated loss is applied inside the udp and udp-p2p sockets only; tcp and the echo baselines")
            lines.append("  ran without loss, so no ratio between them is printed. Kernel loss (the default where")
            lines.append("  unshare and nft work; apt-get install nftables) makes every mode face the same loss.")
        }
        for level in report.levels {
            for result in level.results {
                for note in result.notes { lines.append("  note [\(level.lossPercent)% \(result.mode.rawValue)]: \(note)") }
            }
        }
        return lines
    }

    private static func row(_ cells: [String]) -> String {
        zip(cells, columns).map { cell, column in
            column.title == "Mode" || column.title.hasPrefix("[") ? rightPad(cell, column.width) : leftPad(cell, column.width)
        }.joined(separator: " ").trimmingTrailingSpace
    }

    static func leftPad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func rightPad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}

/// `4.0 MB`, `512 KB`, `900 B` (binary multiples, as `--bulk-bytes` reads them).
func formatBytes(_ bytes: Int) -> String {
    if bytes >= 1 << 20 { return "\(formatFixed(Double(bytes) / Double(1 << 20), decimals: 1)) MiB" }
    if bytes >= 1 << 10 { return "\(bytes >> 10) KiB" }
    return "\(bytes) B"
}

extension String {
    var trimmingTrailingSpace: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
