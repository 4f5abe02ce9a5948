/// One of issue 4's performance targets, checked against figures measured in the same run.
struct TargetCheck: Codable, Equatable {
    /// What is compared, for example `udp p99 / tcp p99 at 5 % kernel loss`.
    var name: String
    /// The measured ratio; nil when this run did not measure both sides.
    var ratio: Double?
    /// The ratio the target allows.
    var limit: Double
    /// True when the ratio must be at most `limit`, false when at least.
    var isUpperBound: Bool
    /// The two figures behind the ratio, for the reader.
    var detail: String

    /// PASS, MISS, or n/a when not measured.
    var verdict: String {
        guard let ratio else { return "n/a" }
        return isPassed(ratio) ? "PASS" : "MISS"
    }

    func isPassed(_ ratio: Double) -> Bool { isUpperBound ? ratio <= limit : ratio >= limit }
}

extension Report {
    /// Checks the targets that a `compare` run can measure (the relay-scale one belongs to `bench`).
    func checkTargets() -> [TargetCheck] {
        [p99UnderLoss(), p50AtZeroLoss(), bulkAtZeroLoss(), pointToPointBulkAtZeroLoss(), bulkUnderLoss(),
         relayedBulk(atLoss: 0, limit: 1), relayedBulk(atLoss: 5, limit: 2), p50AgainstEchoAtZeroLoss(),
         wireBytesAtZeroLoss()]
            + fileTargets()
    }

    /// Issue 12's three targets: chat beside a file.
    private func fileTargets() -> [TargetCheck] {
        var p99 = TargetCheck(name: "udp p99 / tcp p99 during a file, 1 % kernel loss", limit: 0.1, isUpperBound: true,
                              detail: "needs --kernel-loss with a 1 % level")
        if lossKind == .kernel, let level = level(1), let udp = level.result(.udp)?.file?.latency,
           let tcp = level.result(.tcp)?.file?.latency, tcp.p99 > 0 {
            p99.ratio = udp.p99 / tcp.p99
            p99.detail = "\(formatMilliseconds(udp.p99)) vs \(formatMilliseconds(tcp.p99))"
        }
        let goodput = [1, 5].map { percent -> TargetCheck in
            var check = TargetCheck(name: "udp file / tcp file goodput, \(percent) % kernel loss", limit: 1, isUpperBound: false,
                                    detail: "needs --kernel-loss with a \(percent) % level")
            if lossKind == .kernel, let level = level(percent), let udp = level.result(.udp)?.file,
               let tcp = level.result(.tcp)?.file, tcp.megabytesPerSecond > 0 {
                check.ratio = udp.megabytesPerSecond / tcp.megabytesPerSecond
                check.detail = "\(formatRate(udp.megabytesPerSecond)) vs \(formatRate(tcp.megabytesPerSecond))"
            }
            return check
        }
        var calm = TargetCheck(name: "udp p99 with / without a file, 0 % loss", limit: 2, isUpperBound: true,
                               detail: "needs a 0 % level")
        if let level = level(0), let with = level.result(.udp)?.file?.latency, let without = level.result(.udp)?.chat?.latency,
           without.p99 > 0 {
            calm.ratio = with.p99 / without.p99
            calm.detail = "\(formatMilliseconds(with.p99)) vs \(formatMilliseconds(without.p99))"
        }
        return [p99] + goodput + [calm]
    }

    private func level(_ percent: Int) -> LevelResult? { levels.first { $0.lossPercent == percent } }

    private func p99UnderLoss() -> TargetCheck {
        var check = TargetCheck(name: "udp p99 / tcp p99 at 5 % kernel loss", limit: 1.0 / 20,
                                isUpperBound: true, detail: "needs --kernel-loss with a 5 % level")
        guard lossKind == .kernel, let level = level(5),
              let udp = level.result(.udp)?.chat?.latency, let tcp = level.result(.tcp)?.chat?.latency,
              tcp.p99 > 0 else { return check }
        check.ratio = udp.p99 / tcp.p99
        check.detail = "\(formatMilliseconds(udp.p99)) vs \(formatMilliseconds(tcp.p99))"
        return check
    }

    private func p50AtZeroLoss() -> TargetCheck {
        var check = TargetCheck(name: "udp p50 / plain UDP echo p50 at 0 % loss", limit: 3,
                                isUpperBound: true, detail: "needs a 0 % level")
        guard let level = level(0), let udp = level.result(.udp)?.chat?.latency,
              let echo = level.result(.udpEcho)?.chat?.latency, echo.p50 > 0 else { return check }
        check.ratio = udp.p50 / echo.p50
        check.detail = "\(formatMilliseconds(udp.p50)) vs \(formatMilliseconds(echo.p50))"
        return check
    }

    private func bulkAtZeroLoss() -> TargetCheck {
        var check = TargetCheck(name: "udp bulk / plain UDP send rate at 0 % loss", limit: 0.5,
                                isUpperBound: false, detail: "needs a 0 % level")
        guard let level = level(0), let udp = level.result(.udp)?.bulk,
              let echo = level.result(.udpEcho)?.bulk else { return check }
        let floor = echo.sendMegabytesPerSecond ?? echo.megabytesPerSecond
        guard floor > 0 else { return check }
        check.ratio = udp.megabytesPerSecond / floor
        check.detail = "\(formatRate(udp.megabytesPerSecond)) vs \(formatRate(floor))"
        return check
    }

    /// Issue 13: the layer alone (no relay) moves bulk at half the plain UDP send rate or more.
    private func pointToPointBulkAtZeroLoss() -> TargetCheck {
        var check = TargetCheck(name: "udp-p2p bulk / plain UDP send rate at 0 % loss", limit: 0.5,
                                isUpperBound: false, detail: "needs a 0 % level")
        guard let level = level(0), let p2p = level.result(.udpPointToPoint)?.bulk,
              let echo = level.result(.udpEcho)?.bulk else { return check }
        let floor = echo.sendMegabytesPerSecond ?? echo.megabytesPerSecond
        guard floor > 0 else { return check }
        check.ratio = p2p.megabytesPerSecond / floor
        check.detail = "\(formatRate(p2p.megabytesPerSecond)) vs \(formatRate(floor))"
        return check
    }

    /// Issue 13: udp bulk through the relay at least `limit` times tcp bulk through it (at 5 %: kernel loss).
    private func relayedBulk(atLoss percent: Int, limit: Double) -> TargetCheck {
        let name = percent == 0 ? "udp bulk / tcp bulk at 0 % loss" : "udp bulk / tcp bulk at \(percent) % kernel loss (issue 13)"
        var check = TargetCheck(name: name, limit: limit, isUpperBound: false,
                                detail: percent == 0 ? "needs a 0 % level" : "needs --kernel-loss with a \(percent) % level")
        guard percent == 0 || lossKind == .kernel, let level = level(percent), let udp = level.result(.udp)?.bulk,
              let tcp = level.result(.tcp)?.bulk, tcp.megabytesPerSecond > 0 else { return check }
        check.ratio = udp.megabytesPerSecond / tcp.megabytesPerSecond
        check.detail = "\(formatRate(udp.megabytesPerSecond)) vs \(formatRate(tcp.megabytesPerSecond))"
        return check
    }

    /// Issue 13: chat p50 through the relay at most twice the UDP echo round trip.
    private func p50AgainstEchoAtZeroLoss() -> TargetCheck {
        var check = p50AtZeroLoss()
        check.name += " (issue 13)"
        check.limit = 2
        return check
    }

    /// Issue 13: for the chat workload, udp mode puts no more bytes on the wire per payload byte than tcp.
    private func wireBytesAtZeroLoss() -> TargetCheck {
        var check = TargetCheck(name: "udp wire/B / tcp wire/B (chat) at 0 % loss", limit: 1, isUpperBound: true,
                                detail: "needs a 0 % level")
        guard let level = level(0), let udp = level.result(.udp)?.chat?.wireBytesPerPayloadByte,
              let tcp = level.result(.tcp)?.chat?.wireBytesPerPayloadByte, tcp > 0 else { return check }
        check.ratio = udp / tcp
        check.detail = "\(formatFixed(udp, decimals: 2)) vs \(formatFixed(tcp, decimals: 2))"
        return check
    }

    private func bulkUnderLoss() -> TargetCheck {
        var check = TargetCheck(name: "udp bulk / tcp bulk at 5 % kernel loss", limit: 1,
                                isUpperBound: false, detail: "needs --kernel-loss with a 5 % level")
        guard lossKind == .kernel, let level = level(5), let udp = level.result(.udp)?.bulk,
              let tcp = level.result(.tcp)?.bulk, tcp.megabytesPerSecond > 0 else { return check }
        check.ratio = udp.megabytesPerSecond / tcp.megabytesPerSecond
        check.detail = "\(formatRate(udp.megabytesPerSecond)) vs \(formatRate(tcp.megabytesPerSecond))"
        return check
    }
}

/// `12.3 ms`, `0.084 ms`, `1530 ms`: three significant figures or so.
func formatMilliseconds(_ milliseconds: Double) -> String {
    "\(formatSignificant(milliseconds)) ms"
}

/// `41.2 MB/s`.
func formatRate(_ megabytesPerSecond: Double) -> String {
    "\(formatSignificant(megabytesPerSecond)) MB/s"
}

/// A number with about three significant figures and no exponent.
func formatSignificant(_ value: Double) -> String {
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
    return formatFixed(value, decimals: decimals)
}

/// `value` rounded to `decimals` places, without Foundation.
func formatFixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    let sign = value < 0 && scaled > 0 ? "-" : ""
    guard decimals > 0 else { return "\(sign)\(whole)" }
    let digits = String(fraction)
    return "\(sign)\(whole).\(String(repeating: "0", count: decimals - digits.count))\(digits)"
}
