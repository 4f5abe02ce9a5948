/// What `relay-scale --json` prints: the measurements, then the figures and verdicts the table shows.
struct ScaleJSON: Encodable {
    struct Summary: Encodable {
        var relayCPUMeanPercent: Double
        var relayCPUMaxPercent: Double
        var relayRSSMaxMegabytes: Double
        var benchCPUMeanPercent: Double
        var cpuTarget: String
        var memoryTarget: String
    }

    var result: RelayScaleResult
    var summary: Summary

    init(_ result: RelayScaleResult) {
        self.result = result
        summary = Summary(relayCPUMeanPercent: result.relayCPUMean, relayCPUMaxPercent: result.relayCPUMax,
                          relayRSSMaxMegabytes: result.relayRSSMax, benchCPUMeanPercent: result.benchCPUMean,
                          cpuTarget: "< 25 %: " + verdict(result.isCPUTargetMet),
                          memoryTarget: "< 100 MB: " + verdict(result.isMemoryTargetMet))
    }
}

/// What `fanout --json` prints: the measurements, the delivery rate and the exactly-once verdict.
struct FanoutJSON: Encodable {
    struct Summary: Encodable {
        var deliveriesPerSecond: Double
        var expectedDeliveries: Int
        var exactlyOnceInOrder: String
    }

    var result: FanoutResult
    var summary: Summary

    init(_ result: FanoutResult) {
        self.result = result
        summary = Summary(deliveriesPerSecond: result.deliveriesPerSecond, expectedDeliveries: result.expectedDeliveries,
                          exactlyOnceInOrder: verdict(result.isExact))
    }
}
