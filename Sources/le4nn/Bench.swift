import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

/// `le4nn bench`: training and inference speed of a net on random data.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference speed (images/s) on random data.",
        discussion: """
        Trains on random inputs of the net's input shape with momentum SGD and label smoothing \
        0.1, then runs inference in batches of 1000. Build with `swift build -c release` first: \
        debug builds are 10–100× slower. Threads: LE4NN_THREADS (default: all cores). The first \
        line names the instruction set of the kernels (the best the CPU has; LE4NN_ISA=avx2 or \
        portable chooses a lower one). `--gemm` measures the matrix product alone instead, on \
        1 and on all threads, to set every other figure beside the machine's own limit.

          le4nn bench --net mnist-small --batch 100
          le4nn bench --net cifar-small --seconds 20
          le4nn bench --gemm

        \(Network.grammar)
        """)

    @Option(help: "Preset or spec (see below).") var net: String = "mnist-small"
    @Option(help: "Input shape C,H,W (default: the images a preset is built for, else 1,28,28).") var input: String?
    @Option(parsing: .unconditional, help: "Training batch size.") var batch: Int = 100
    @Option(parsing: .unconditional, help: "Seconds to measure each of training and inference.") var seconds: Double = 10
    @Flag(help: "Measure SGEMM GFLOP/s (1024×1024×1024) on 1 and on all threads instead.") var gemm = false

    func run() throws {
        try checkCount(batch, "batch", Limits.batch)
        guard (0.1 ... 3600).contains(seconds) else { throw ValidationError("--seconds must be 0.1 to 3600") }
        if gemm { return benchGemm() }
        let shape = try input.map { s -> [Int] in
            let v = s.split(separator: ",").compactMap { Int($0) }
            guard v.count == 3, v.allSatisfy({ $0 > 0 }) else { throw ValidationError("--input wants C,H,W such as 3,32,32") }
            return v
        } ?? (Network.presets.first { $0.name == net }?.images ?? .mnist).imageShape
        let network = try Network(spec: try checkNetOption(net), inputShape: shape, classes: 10, seed: 1)
        try network.checkMemory(batch: batch)
        print("net \(network.spec): \(network.parameterCount) parameters, input \(shape), batch \(batch)")
        print("CPU \(Bench.cpuModel), threads \(Threads.count), kernels \(ISA.active.name)")
        let measured = measureTraining(network, batch: batch, seconds: seconds)
        let train = measured.imagesPerSecond
        print(String(format: "training:  %8.0f images/s (%d images in %.1f s)", train, measured.images, measured.seconds))
        var batches = Minibatches(ImageSet.random(count: 1000, shape: shape, classes: 10, seed: 2))
        let xi = batches.make(0 ..< 1000).x
        _ = network.forward(xi, training: false)
        var images = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            _ = network.forward(xi, training: false)
            images += 1000
        }
        let infer = Double(images) / Date().timeIntervalSince(start)
        print(String(format: "inference: %8.0f images/s (batches of 1000)", infer))
        let flops = network.forwardFLOPs
        print(String(format: "effective GFLOP/s (direct-convolution FLOPs, %.1f MFLOP per image forward, ×3 to train): train %.1f, inference %.1f",
                     flops / 1e6, 3 * flops * train / 1e9, flops * infer / 1e9))
        print(String(format: "bench %@ batch %d: train %.0f img/s, inference %.0f img/s", net, batch, train, infer))
    }

    /// The CPU's model name, family and model from /proc/cpuinfo, to print beside every time
    /// (virtual machines often show only "AMD EPYC" as the name).
    static var cpuModel: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ key: String) -> String? {
            info.split(separator: "\n").first(where: { $0.hasPrefix(key + "\t") || $0.hasPrefix(key + " ") })
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return "\(field("model name") ?? "unknown") (family \(field("cpu family") ?? "?"), model \(field("model") ?? "?"))"
    }

    /// C = A·B for 1024×1024 matrices, timed on one thread and on all of them.
    func benchGemm() {
        let n = 1024
        var rng = SeededRNG(seed: 3)
        let a = (0 ..< n * n).map { _ in Float(rng.uniform(-1, 1)) }, b = (0 ..< n * n).map { _ in Float(rng.uniform(-1, 1)) }
        var c = [Float](repeating: 0, count: n * n)
        print("SGEMM \(n)×\(n)×\(n), CPU \(Bench.cpuModel), kernels \(ISA.active.name)")
        for threads in Set([1, Threads.count]).sorted() {
            var runs = 0
            let start = Date()
            while runs == 0 || Date().timeIntervalSince(start) < min(seconds, 3) {
                if threads == 1 {
                    Net.gemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n)
                } else {
                    parallelGemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n)
                }
                runs += 1
            }
            let flops = 2 * Double(n * n * n) * Double(runs) / Date().timeIntervalSince(start)
            print("\(threads) thread\(threads == 1 ? " " : "s"): " + String(format: "%6.1f GFLOP/s", flops / 1e9))
        }
    }
}
