// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "herd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HerdKit", targets: ["HerdKit"]),
        .library(name: "Transports", targets: ["Transports"]),
        .library(name: "Providers", targets: ["Providers"]),
        .library(name: "HerdCLI", targets: ["HerdCLI"]),
        .library(name: "HerdTesting", targets: ["HerdTesting"]),
        .library(name: "HerdSimulator", targets: ["HerdSimulator"]),
        .executable(name: "herd", targets: ["herd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        .target(
            name: "HerdKit",
            dependencies: [
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "Transports",
            dependencies: [
                "HerdKit",
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Providers",
            dependencies: [
                "HerdKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Resources/ucla-places.json")]
        ),
        .target(
            name: "HerdCLI",
            dependencies: [
                "HerdKit", "Transports", "Providers", "HerdSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(name: "herd", dependencies: ["HerdCLI"]),
        // Many real servers in one process on one EmbeddedEventLoop, in simulated time, over a simulated
        // network: the seeded fault search and the scaling study (`herd simulate`).
        .target(
            name: "HerdSimulator",
            dependencies: [
                "HerdKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What every test target and the examples' tests share: a herd in the test process, raw clients,
        // stand-in peers, port reservations, the herd executable as a child, log reading, waits.
        .target(
            name: "HerdTesting",
            dependencies: [
                "HerdKit", "Transports", "Providers", "HerdCLI",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HerdKitTests",
            dependencies: [
                "HerdKit", "HerdTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ProvidersTests",
            dependencies: [
                "Providers", "HerdKit", "HerdTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TransportsTests",
            dependencies: [
                "Transports", "HerdKit", "HerdTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HerdEndToEndTests",
            dependencies: ["HerdKit", "Transports", "Providers", "HerdCLI", "HerdTesting", "HerdSimulator", "herd"]
        ),
    ]
)
