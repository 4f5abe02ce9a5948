import Transport

/// The package's one way to start a program (`Transport.ChildProcess`), named apart from this
/// target's `ChildProcess`.
typealias Spawner = Transport.ChildProcess
