// swift-tools-version: 6.0
//
// Datagram Chat: chat over UDP with its own reliability layer, beside a TCP mode that speaks the
// same chat protocol. No package dependencies: the toolchain only.
//
// Layering (a target imports only targets above it):
//
//   Noise           pure: the Noise Protocol Framework (rev. 34) handshake and cipher states; primitives injected
//   Datagram        pure: wire format, timers, loss recovery, the sans-IO connection; sealing through Noise
//   LinkSimulator   pure: a seeded lossy link (loss, bursts, delay, duplication, corruption)
//   Chat            pure: the chat protocol, TCP framing, commands, safe text, endpoint text (RFC 5952)
//   CommandLineSupport  pure: option parsing, --help and usage errors shared by the executables; LogLevel
//   Relay           pure: the relay's peer table, rooms and routing, with injected time
//   ChatClientCore  pure: every rule of a chat session (join, reconnect, resend, backlog, heartbeats)
//   LibCrypto       the only target that links OpenSSL 3's libcrypto (through CLibCrypto): SHA-256, BLAKE2s,
//                   HMAC, HKDF, X25519, ChaCha20-Poly1305, the CSPRNG, and Noise's primitives over them
//   RelayStore      the only target that links the system's SQLite 3 (through CSQLite): the relay's
//                   data directory (bans, room settings, history) behind Relay's pure `RelayStorage`
//   Transport       system: the only library target importing Glibc or Dispatch: sockets and system
//                   calls, serial queues, dispatch sources and the timer, the logger, clocks, and the
//                   wrappers Measurement needs (plain loopback sockets, /proc, posix_spawn, a worker thread)
//   DatagramRuntime runtime shells over Transport, each a Mutex and one SerialQueue: the connection
//                   driver (and its async face), the relay host, the chat session
//   Measurement     what only compare and bench use (raw-socket baselines, process and network
//                   counters), over Transport alone; imported by no product target
//   relay, chat, compare, bench   thin executables (they may import Glibc and Dispatch themselves)
import PackageDescription

let package = Package(
    name: "DatagramChat",
    products: [
        .library(name: "Datagram", targets: ["Datagram"]),
        .library(name: "LinkSimulator", targets: ["LinkSimulator"]),
        .library(name: "DatagramRuntime", targets: ["DatagramRuntime", "Transport"]),
        .executable(name: "relay", targets: ["RelayServer"]),
        .executable(name: "chat", targets: ["ChatClient"]),
        .executable(name: "compare", targets: ["Compare"]),
        .executable(name: "bench", targets: ["Bench"]),
    ],
    targets: [
        .target(name: "Datagram", dependencies: ["Noise"]),
        .target(name: "LinkSimulator", dependencies: ["Datagram"]),
        .target(name: "Chat", dependencies: ["Datagram"]),
        .target(name: "Relay", dependencies: ["Datagram", "Chat", "CommandLineSupport", "Noise"]),
        .target(name: "CommandLineSupport"),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "RelayStore", dependencies: ["CSQLite", "Relay", "Chat", "Datagram"]),
        .target(name: "Noise"),
        .target(name: "LibCrypto", dependencies: ["CLibCrypto", "Noise"]),
        .target(name: "ChatClientCore", dependencies: ["Datagram", "Chat", "Noise"]),
        .target(name: "Transport", dependencies: ["Datagram", "Chat", "CommandLineSupport"]),
        .target(name: "DatagramRuntime", dependencies: ["Transport", "Datagram", "LinkSimulator", "Chat", "Relay", "ChatClientCore", "LibCrypto", "Noise"]),
        .target(name: "Measurement", dependencies: ["Transport"]),
        .executableTarget(name: "RelayServer", dependencies: ["CommandLineSupport", "DatagramRuntime", "Transport", "Relay", "Chat", "RelayStore"]),
        .executableTarget(name: "ChatClient", dependencies: ["CommandLineSupport", "DatagramRuntime", "ChatClientCore", "Transport", "Chat", "Datagram", "LinkSimulator", "LibCrypto"]),
        .executableTarget(name: "Compare", dependencies: ["CommandLineSupport", "DatagramRuntime", "ChatClientCore", "Measurement", "Transport", "Chat", "Datagram", "LinkSimulator", "Relay", "LibCrypto"]),
        .executableTarget(name: "Bench", dependencies: ["CommandLineSupport", "DatagramRuntime", "ChatClientCore", "Relay", "Measurement", "Transport", "Chat", "Datagram", "LinkSimulator", "LibCrypto", "Noise"]),
        .testTarget(name: "DatagramTests", dependencies: ["Datagram", "LinkSimulator", "Noise", "LibCrypto"]),
        .testTarget(name: "SimulationTests", dependencies: ["Datagram", "LinkSimulator", "Noise", "LibCrypto"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "DatagramRuntime", "Datagram", "LinkSimulator"]),
        .testTarget(name: "ChatClientCoreTests", dependencies: ["ChatClientCore", "Chat", "Datagram", "LinkSimulator", "Relay", "LibCrypto", "Noise"]),
        .testTarget(name: "ChatTests", dependencies: ["Chat", "LinkSimulator"]),
        .testTarget(name: "RelayTests", dependencies: ["Relay", "Chat", "Datagram", "LinkSimulator", "LibCrypto", "Noise"]),
        .testTarget(name: "LibCryptoTests", dependencies: ["LibCrypto", "Chat"]),
        .testTarget(name: "NoiseTests", dependencies: ["Noise", "LibCrypto", "LinkSimulator"], exclude: ["Vectors"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Transport", "DatagramRuntime", "ChatClientCore", "Chat", "RelayServer", "ChatClient"]),
        .testTarget(name: "CommandLineSupportTests", dependencies: ["CommandLineSupport"]),
        .testTarget(name: "RelayStoreTests", dependencies: ["RelayStore", "Relay", "Chat", "Datagram"]),
    ],
    swiftLanguageModes: [.v6]
)
