// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "HerdClientExample",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own project, depend on herd by URL instead.
        .package(name: "herd", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "HerdClientExample",
            dependencies: [
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Transports", package: "herd"),
            ]
        )
    ]
)
