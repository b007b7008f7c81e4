// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "CustomProvider",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "csv-herd", targets: ["csv-herd"])
    ],
    dependencies: [
        // In your own project, depend on herd by URL instead.
        .package(name: "herd", path: "../..")
    ],
    targets: [
        // The provider itself, in a library so the tests can use it.
        .target(
            name: "CSVPlaces",
            dependencies: [
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Providers", package: "herd"),
            ]
        ),
        // The herd command line with the provider registered: up, serve, send, check, certs, bench.
        .executableTarget(
            name: "csv-herd",
            dependencies: [
                "CSVPlaces",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
            ]
        ),
        .testTarget(
            name: "CSVPlacesTests",
            dependencies: [
                "CSVPlaces",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdCLI", package: "herd"),
                .product(name: "HerdTesting", package: "herd"),
            ]
        ),
    ]
)
