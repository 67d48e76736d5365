import ArgumentParser
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
        debug builds are 10–100× slower. Threads: LE4NN_THREADS (default: all cores); OpenBLAS \
        itself runs single-threaded inside each of them. The first line names the OpenBLAS \
        kernels in use (OPENBLAS_CORETYPE chooses them).

          le4nn bench --net mnist-small --batch 100
          le4nn bench --net cifar-small --seconds 20

        \(Network.grammar)
        """)

    @Option(help: "Preset or spec (see below).") var net: String = "mnist-small"
    @Option(help: "Input shape C,H,W (default: 1,28,28, or 3,32,32 for cifar-small).") var input: String?
    @Option(help: "Training batch size.") var batch: Int = 100
    @Option(help: "Seconds to measure each of training and inference.") var seconds: Double = 10

    func run() throws {
        guard (1 ... 10_000).contains(batch), seconds > 0 else { throw ValidationError("--batch must be 1 to 10000 and --seconds positive") }
        let shape = try input.map { s -> [Int] in
            let v = s.split(separator: ",").compactMap { Int($0) }
            guard v.count == 3, v.allSatisfy({ $0 > 0 }) else { throw ValidationError("--input wants C,H,W such as 3,32,32") }
            return v
        } ?? (net.hasPrefix("cifar") ? [3, 32, 32] : [1, 28, 28])
        let network = try Network(spec: net, inputShape: shape, classes: 10, seed: 1)
        let trainer = Trainer(net: network, optimizer: OptimizerConfig(.momentum), smoothing: 0.1)
        var rng = SeededRNG(seed: 2)
        let n = max(batch, 1000)
        let set = ImageSet(count: n, channels: shape[0], height: shape[1], width: shape[2],
                           pixels: (0 ..< n * shape.reduce(1, *)).map { _ in UInt8(rng.int(below: 256)) },
                           labels: (0 ..< n).map { _ in UInt8(rng.int(below: 10)) }, classNames: (0 ..< 10).map(String.init))
        print("net \(network.spec): \(network.parameterCount) parameters, input \(shape), batch \(batch), threads \(Threads.count), BLAS kernels \(BLASKernel.name)")
        let x = Network.input(set, indices: 0 ..< batch)
        let t = SoftmaxCrossEntropy.oneHot(Array(set.labels.prefix(batch)), classes: 10)
        trainer.trainStep(x: x, targets: t, lr: 0.01)  // warm-up: buffers, BLAS threads
        var images = 0
        var start = Date()
        while Date().timeIntervalSince(start) < seconds {
            trainer.trainStep(x: x, targets: t, lr: 0.01)
            images += batch
        }
        let train = Double(images) / Date().timeIntervalSince(start)
        print(String(format: "training:  %8.0f images/s (%d images in %.1f s)", train, images, Date().timeIntervalSince(start)))
        let xi = Network.input(set, indices: 0 ..< 1000)
        _ = network.forward(xi, training: false)
        images = 0
        start = Date()
        while Date().timeIntervalSince(start) < seconds {
            _ = network.forward(xi, training: false)
            images += 1000
        }
        let infer = Double(images) / Date().timeIntervalSince(start)
        print(String(format: "inference: %8.0f images/s (batches of 1000)", infer))
        print(String(format: "bench %@ batch %d: train %.0f img/s, inference %.0f img/s", net, batch, train, infer))
    }
}
