// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "CustomStage",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "geofence-herd", targets: ["geofence-herd"])
    ],
    dependencies: [
        // In your own project, depend on herd by URL instead.
        .package(name: "herd", path: "../..")
    ],
    targets: [
        // The stages themselves, in libraries so the tests can use them. `geofence` never waits (the
        // synchronous form); `audit` waits for its log (the suspending form).
        .target(
            name: "Geofence",
            dependencies: [
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Providers", package: "herd"),
            ]
        ),
        .target(
            name: "Audit",
            dependencies: [
                .product(name: "HerdKit", package: "herd")
            ]
        ),
        // The herd command line with the stages registered: up, serve, send, check, certs, bench.
        .executableTarget(
            name: "geofence-herd",
            dependencies: [
                "Geofence",
                "Audit",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
            ]
        ),
        .testTarget(
            name: "GeofenceTests",
            dependencies: [
                "Geofence",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
                .product(name: "HerdTesting", package: "herd"),
            ]
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: [
                "Audit",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
                .product(name: "HerdTesting", package: "herd"),
            ]
        ),
    ]
)
