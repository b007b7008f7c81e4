// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "HerdClientExample",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own project, depend on herd by URL instead.
        .package(name: "herd", path: "../.."),
        // For the kept-open connection `HerdClient.connect(to:over:)` gives (an NIOAsyncChannel of ByteBuffers).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // What an application does with a herd, in a library so the tests can use it.
        .target(
            name: "PlaceLookup",
            dependencies: [
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Transports", package: "herd"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "HerdClientExample",
            dependencies: [
                "PlaceLookup",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "Transports", package: "herd"),
            ]
        ),
        .testTarget(
            name: "PlaceLookupTests",
            dependencies: [
                "PlaceLookup",
                .product(name: "HerdKit", package: "herd"),
                .product(name: "HerdTesting", package: "herd"),
                .product(name: "Transports", package: "herd"),
            ]
        ),
    ]
)
