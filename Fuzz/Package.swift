// swift-tools-version: 5.4
import PackageDescription

// The codec's libFuzzer target, kept out of the root package: it only builds with `-sanitize=fuzzer`, and it
// gets its `main` from libFuzzer. Build and run it with `Scripts/fuzz.sh`.
//
// Tools version 5.4 on purpose: from 5.5 on SwiftPM renames an executable's entry point to `<Module>_main` and
// links `main` to that symbol, which leaves no room for libFuzzer's `main` (the link fails with "undefined
// symbol CodecFuzzer_main"). The code is still compiled in the Swift 6 language mode.
let package = Package(
    name: "HerdFuzz",
    dependencies: [.package(name: "herd", path: "..")],
    targets: [
        .executableTarget(
            name: "CodecFuzzer",
            dependencies: [.product(name: "HerdKit", package: "herd")],
            // No top-level code and no `@main`: libFuzzer calls LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ],
    swiftLanguageVersions: [.version("6")]
)
