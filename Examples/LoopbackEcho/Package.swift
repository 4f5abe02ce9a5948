// swift-tools-version: 6.0
//
// An example of Datagram Chat's runtime as a library: a package that depends on it by path and
// exchanges messages over loopback with the async API. Build and run from this folder:
//   swift run LoopbackEcho
import PackageDescription

let package = Package(
    name: "LoopbackEcho",
    dependencies: [
        .package(name: "DatagramChat", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "LoopbackEcho",
            dependencies: [
                .product(name: "Datagram", package: "DatagramChat"),
                .product(name: "DatagramRuntime", package: "DatagramChat"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
