/// udp and tcp mode through an in-process relay (filled in once RelayHost and ChatSession land).
enum RelayedModes {
    static func chat(_ mode: Mode, simulatedLoss: Double, options: Options, seed: UInt64) throws -> ChatFigures {
        throw RunFailure("\(mode.rawValue) mode is not built yet")
    }

    static func bulk(_ mode: Mode, simulatedLoss: Double, options: Options, seed: UInt64) throws -> BulkFigures {
        throw RunFailure("\(mode.rawValue) mode is not built yet")
    }
}
