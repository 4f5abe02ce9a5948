import Measurement

/// The package's one way to start a program (`Measurement.ChildProcess`), named apart from this
/// target's `ChildProcess` (and from Foundation's `Measurement`).
typealias Spawner = Measurement.ChildProcess
