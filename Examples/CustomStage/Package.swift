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
        // The stage itself, in a library so the tests can use it.
        .target(
            name: "Geofence",
            dependencies: [
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Providers", package: "herd"),
            ]
        ),
        // The herd command line with the stage registered: up, serve, send, check, certs, bench.
        .executableTarget(
            name: "geofence-herd",
            dependencies: [
                "Geofence",
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
                .product(name: "Transports", package: "herd"),
            ]
        ),
    ]
)
