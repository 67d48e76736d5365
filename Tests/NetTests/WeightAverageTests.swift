import XCTest
import LE4Data
import TestSupport
import Net

/// The moving average of the weights: the update rule with its warm-up, the BN statistics
/// recomputed for the averaged weights, and its place in checkpoints.
final class WeightAverageTests: XCTestCase {
    /// Random images with labels, and a trainer of a small net with BN and dropout.
    func smallRun(decay: Float, seed: UInt64 = 3) throws -> (Trainer, Tensor, [Float]) {
        let net = try Network(spec: "conv4-bn-relu-pool-fc8-bn-relu-drop0.3-fc10", inputShape: [1, 8, 8], classes: 10, seed: seed)
        let trainer = Trainer(net: net, optimizer: OptimizerConfig(.momentum, learningRate: 0.05))
        try trainer.keepAverage(decay: decay)
        var rng = SeededRNG(seed: seed)
        let x = Tensor(shape: [20, 1, 8, 8], data: (0 ..< 20 * 64).map { _ in rng.nextFloat() })
        return (trainer, x, SoftmaxCrossEntropy.oneHot((0 ..< 20).map { UInt8($0 % 10) }, classes: 10))
    }

    func testDecayZeroMakesTheAverageExactlyTheWeights() throws {
        let (trainer, x, t) = try smallRun(decay: 0)
        for _ in 0 ..< 3 { trainer.trainStep(x: x, targets: t, lr: 0.05) }
        let average = try XCTUnwrap(trainer.average)
        XCTAssertEqual(average.updates, 3)
        XCTAssertEqual(average.network.params.map(\.value), trainer.net.params.map(\.value))
    }

    func testAverageOfAKnownSequenceFollowsTheWarmUp() throws {
        // One weight and one bias (fc1 on a single input), both starting at 0 and then set to
        // 1, 2, 3 before each update. With d = 0.9 the warm-up decays are 1/10, 2/11, 3/12:
        // 0.1·0 + 0.9·1 = 0.9;  (2/11)·0.9 + (9/11)·2 = 1.8;  0.25·1.8 + 0.75·3 = 2.7.
        let net = try Network(spec: "fc1", inputShape: [1, 1, 1], classes: 1, seed: 1)
        for p in net.params { p.value = [0] }
        let average = try WeightAverage(of: net, decay: 0.9)
        var seen = [Float]()
        for w: Float in [1, 2, 3] {
            for p in net.params { p.value = [w] }
            average.update()
            seen.append(average.network.params[0].value[0])
            XCTAssertEqual(average.network.params[1].value, average.network.params[0].value, "the bias is averaged alike")
        }
        XCTAssertEqual(seen[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(seen[1], 1.8, accuracy: 1e-6)
        XCTAssertEqual(seen[2], 2.7, accuracy: 1e-6)
        XCTAssertEqual(net.params[0].value, [3], "the trained weights are left alone")
    }

    func testWarmUpDecayRisesToTheGivenDecayAndStaysThere() throws {
        let net = try Network(spec: "fc1", inputShape: [1, 1, 1], classes: 1, seed: 1)
        let average = try WeightAverage(of: net, decay: 0.99)
        XCTAssertEqual(average.decay(atUpdate: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(average.decay(atUpdate: 90), 0.91, accuracy: 1e-6)
        XCTAssertLessThan(average.decay(atUpdate: 889), 0.99)
        XCTAssertEqual(average.decay(atUpdate: 890), 0.99, "(1 + 890)/(10 + 890) = 0.99: the warm-up ends here")
        XCTAssertEqual(average.decay(atUpdate: 100_000), 0.99)
    }

    func testDecayOutsideZeroToOneIsRefused() throws {
        let net = try Network(spec: "fc1", inputShape: [1, 1, 1], classes: 1, seed: 1)
        for bad: Float in [-0.1, 1, .nan] {
            XCTAssertThrowsError(try WeightAverage(of: net, decay: bad)) { XCTAssertTrue("\($0)".contains("[0, 1)"), "\($0)") }
        }
    }

    func testRecomputedBNStatisticsAreTheMeanOfEachBatchsStatistics() throws {
        // BN straight on the input (2 channels of 1 pixel), so the batch statistics are those of the numbers below.
        let net = try Network(spec: "bn-fc2", inputShape: [2, 1, 1], classes: 2, seed: 1)
        let average = try WeightAverage(of: net, decay: 0.5)
        let batches: [[Float]] = [[1, 10, 2, 20, 3, 30, 6, 60],   // channel 0: 1 2 3 6; channel 1: 10 20 30 60
                                  [0, 0, 4, -4, 4, 4, 0, 8]]     // channel 0: 0 4 4 0;  channel 1: 0 -4 4 8
        var calls = 0
        average.network.recomputeBatchStatistics(batches: 2) { k in
            calls += 1
            return Tensor(shape: [4, 2, 1, 1], data: batches[k])
        }
        XCTAssertEqual(calls, 2)
        let bn = try XCTUnwrap(average.network.layers[0] as? BatchNorm)
        // Means: channel 0 (3 + 2)/2, channel 1 (30 + 2)/2. Unbiased variances: channel 0
        // (14/3 + 16/3)/2 = 5, channel 1 (1400/3 + 80/3)/2 = 740/3.
        XCTAssertEqual(bn.runningMean.value[0], 2.5, accuracy: 1e-5)
        XCTAssertEqual(bn.runningMean.value[1], 16, accuracy: 1e-4)
        XCTAssertEqual(bn.runningVar.value[0], 5, accuracy: 1e-4)
        XCTAssertEqual(bn.runningVar.value[1], 740.0 / 3, accuracy: 1e-2)
        XCTAssertEqual(bn.momentum, bn.trainingMomentum, "the training momentum is back")
        let trained = try XCTUnwrap(net.layers[0] as? BatchNorm)
        XCTAssertEqual(trained.runningMean.value, [0, 0], "the trained network's statistics are not touched")
        XCTAssertEqual(trained.runningVar.value, [1, 1])
    }

    func testRecomputingTwiceGivesTheSameStatisticsWithDropoutBeforeBN() throws {
        // Dropout before BN: the masks must repeat for a resumed run to recompute what an uninterrupted one does.
        let net = try Network(spec: "drop0.5-bn-fc2", inputShape: [3, 2, 2], classes: 2, seed: 1)
        let average = try WeightAverage(of: net, decay: 0.5)
        var rng = SeededRNG(seed: 9)
        let x = Tensor(shape: [6, 3, 2, 2], data: (0 ..< 72).map { _ in rng.nextFloat() })
        average.network.recomputeBatchStatistics(batches: 3) { _ in x }
        let first = average.network.buffers.map(\.value)
        average.network.recomputeBatchStatistics(batches: 3) { _ in x }
        XCTAssertEqual(average.network.buffers.map(\.value), first)
    }

    func testCheckpointHoldsTheAverageAndRestoreContinuesIt() throws {
        let (trainer, x, t) = try smallRun(decay: 0.9)
        for _ in 0 ..< 4 { trainer.trainStep(x: x, targets: t, lr: 0.05) }
        let path = temporaryDirectory() + "/c.npz"
        try ModelFile.save(trainer.net, meta: "{}", trainer: trainer, to: path)
        let loaded = try ModelFile.load(path)
        let saved = try XCTUnwrap(loaded.average)
        XCTAssertEqual(saved.updates, 4)
        XCTAssertEqual(saved.values, try XCTUnwrap(trainer.average).values)
        XCTAssertNotEqual(saved.values, trainer.net.params.map(\.value), "the average is not the weights")
        try ModelFile.save(trainer.net, meta: "{}", to: path)
        XCTAssertNil(try ModelFile.load(path).average, "a model file without a trainer holds no average")

        let resumed = Trainer(net: loaded.network, optimizer: OptimizerConfig(.momentum, learningRate: 0.05))
        try resumed.keepAverage(decay: 0.9)
        try XCTUnwrap(resumed.average).restore(updates: saved.updates, values: saved.values)
        trainer.average?.update()
        resumed.average?.update()
        XCTAssertEqual(resumed.average?.values, trainer.average?.values, "the next update continues from the saved count and values")
        XCTAssertThrowsError(try XCTUnwrap(resumed.average).restore(updates: 1, values: [[0]])) {
            XCTAssertTrue("\($0)".contains("does not fit"), "\($0)")
        }
    }
}
