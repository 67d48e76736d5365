// swift-tools-version:5.9
import PackageDescription

// The module for Sources/Data is called LE4Data: a module named `Data` would shadow Foundation.Data.
let package = Package(
    name: "le4nn",
    products: [
        .executable(name: "le4nn", targets: ["le4nn"]),
        .library(name: "Contest", targets: ["Contest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // glibc's mallopt, to keep large freed buffers for reuse (see Threads.configure).
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "LE4Data", dependencies: ["CZlib", "CPNG"], path: "Sources/Data"),
        .target(name: "Augment", dependencies: ["LE4Data"], path: "Sources/Augment"),
        // The SIMD kernels (GEMM micro-kernels), each compiled for AVX2, AVX-512 and portable C
        // and chosen at run time: one binary for every x86-64 CPU.
        .target(name: "Kernels", path: "Sources/Kernels"),
        .target(name: "Net", dependencies: ["LE4Data", "Kernels", "CMalloc"], path: "Sources/Net"),
        // The pipeline: training runs, ensembles, the contest, its files. No command-line parsing.
        .target(name: "Contest", dependencies: ["LE4Data", "Augment", "Net"], path: "Sources/Contest"),
        // The command line: each command parses its options, calls Contest and prints.
        .executableTarget(
            name: "le4nn",
            dependencies: ["Contest", "LE4Data", "Augment", "Net",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/le4nn"),
        // Shared by the test targets only: fixture and data locations, subprocess runs.
        .target(name: "TestSupport", dependencies: [], path: "Tests/TestSupport"),
        .testTarget(name: "DataTests", dependencies: ["LE4Data", "TestSupport"], path: "Tests/DataTests"),
        .testTarget(name: "AugmentTests", dependencies: ["Augment", "LE4Data", "TestSupport"], path: "Tests/AugmentTests"),
        .testTarget(name: "NetTests", dependencies: ["Net", "LE4Data", "TestSupport"], path: "Tests/NetTests"),
        // Runs the built `le4nn` executable end to end.
        .testTarget(name: "ContestTests", dependencies: ["le4nn", "Contest", "LE4Data", "Net", "TestSupport"], path: "Tests/ContestTests"),
    ]
)
