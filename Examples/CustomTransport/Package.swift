// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "CustomTransport",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "unix-herd", targets: ["unix-herd"])
    ],
    dependencies: [
        // In your own project, depend on herd by URL instead.
        .package(name: "herd", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The transport itself, in a library so the tests can use it.
        .target(
            name: "UnixSockets",
            dependencies: [
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Transports", package: "herd"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The herd command line with the transport registered: up, serve, send, check, certs, bench.
        .executableTarget(
            name: "unix-herd",
            dependencies: [
                "UnixSockets",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
            ]
        ),
        .testTarget(
            name: "UnixSocketsTests",
            dependencies: [
                "UnixSockets",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
                .product(name: "HerdTesting", package: "herd"),
                .product(name: "Transports", package: "herd"),
            ]
        ),
    ]
)
